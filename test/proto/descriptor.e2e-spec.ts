// Proves field-for-field that proto/etcd matches the contract the installed etcd 3.4 binary was
// built from: same messages, field names, numbers, types, labels, oneofs, enums and RPCs.
import { existsSync } from 'fs';
import * as path from 'path';
import * as protobuf from 'protobufjs';
import { embeddedDescriptors, Shape, shapeOfDescriptor, shapeOfRoot } from './etcd-descriptors';

const ETCD_BIN = process.env.ETCD_BIN ?? '/usr/bin/etcd';
const PROTO_DIR = path.resolve(__dirname, '../../proto/etcd');

// etcd's file name (as registered in the binary) -> the package our copy declares.
const FILES: Array<[string, string]> = [
  ['kv.proto', 'mvccpb'],
  ['auth.proto', 'authpb'],
  ['rpc.proto', 'etcdserverpb'],
  ['v3lock.proto', 'v3lockpb'],
  ['v3election.proto', 'v3electionpb'],
];

const plain = (s: Shape) => ({
  messages: Object.fromEntries(s.messages),
  enums: Object.fromEntries(s.enums),
  methods: Object.fromEntries(s.methods),
});

const describeIfEtcd = existsSync(ETCD_BIN) ? describe : describe.skip;

describeIfEtcd('proto/etcd matches the descriptors embedded in etcd', () => {
  let theirs: Map<string, any>;
  let root: protobuf.Root;

  beforeAll(() => {
    theirs = embeddedDescriptors(ETCD_BIN);
    root = new protobuf.Root();
    // Imports are written relative to proto/etcd, as the gRPC loaders see them.
    root.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(PROTO_DIR, target));
    root.loadSync(['etcdserverpb/rpc.proto', 'v3lockpb/v3lock.proto', 'v3electionpb/v3election.proto'], {
      keepCase: true,
    });
    root.resolveAll();
  });

  it.each(FILES)('%s (package %s)', (file, pkg) => {
    const fd = theirs.get(file);
    expect(fd).toBeDefined();
    expect(fd.package).toBe(pkg);
    expect(plain(shapeOfRoot(root, pkg))).toEqual(plain(shapeOfDescriptor(fd)));
  });
});
