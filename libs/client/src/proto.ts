// Loads the etcd v3 wire contract (proto/etcd) once for every client in the process.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** proto/etcd of the package this file ships in (found by walking up to the package.json). */
function etcdProtoDir(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = up;
  }
  return join(dir, 'proto', 'etcd');
}

let services: EtcdServices | undefined;

export type ServiceName = 'KV' | 'Watch' | 'Lease' | 'Cluster' | 'Maintenance' | 'Auth';
export type EtcdServices = Record<ServiceName, grpc.ServiceClientConstructor>;

export function etcdServices(): EtcdServices {
  if (!services) {
    const definition = protoLoader.loadSync(['etcdserverpb/rpc.proto'], {
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
      bytes: Buffer,
      includeDirs: [etcdProtoDir()],
    });
    services = (grpc.loadPackageDefinition(definition) as any).etcdserverpb as EtcdServices;
  }
  return services;
}
