// The etcd v3 message types, loaded with protobufjs straight from proto/etcd. The bench encodes
// requests and decodes responses itself (no proto-loader object conversion on the hot path) and
// hands grpc-js ready-made buffers.
import { existsSync } from 'fs';
import * as path from 'path';
import * as protobuf from 'protobufjs';

/** Walks up from `start` to the folder that holds proto/etcd (works from sources and from dist/). */
export function findRepoRoot(start: string = __dirname): string {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'proto/etcd/etcdserverpb/rpc.proto'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`proto/etcd not found above ${start}`);
  }
}

let root: protobuf.Root | undefined;

export function etcdRoot(): protobuf.Root {
  if (root) return root;
  const dir = path.join(findRepoRoot(), 'proto/etcd');
  const r = new protobuf.Root();
  r.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(dir, target));
  r.loadSync(['etcdserverpb/rpc.proto'], { keepCase: true });
  r.resolveAll();
  return (root = r);
}

export function etcdType(name: string): protobuf.Type {
  return etcdRoot().lookupType(`etcdserverpb.${name}`);
}
