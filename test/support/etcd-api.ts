// A thin gRPC client for the etcd v3 API built from Cairn's own proto/etcd files, for tests.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { join } from 'node:path';
import { REPO_ROOT } from './members';

const definition = protoLoader.loadSync(['etcdserverpb/rpc.proto'], {
  keepCase: true,
  longs: String,
  defaults: true,
  oneofs: true,
  includeDirs: [join(REPO_ROOT, 'proto/etcd')],
});
const etcdserverpb = (grpc.loadPackageDefinition(definition) as any).etcdserverpb;

type Unary = (req: object) => Promise<any>;

export interface EtcdApi {
  kv: Record<'Range' | 'Put' | 'DeleteRange' | 'Txn' | 'Compact', Unary>;
  maintenance: Record<'Status' | 'MoveLeader' | 'Alarm' | 'Hash' | 'HashKV' | 'Defragment', Unary> & {
    Snapshot(req?: object): Promise<any[]>;
  };
  cluster: Record<'MemberList' | 'MemberAdd' | 'MemberRemove' | 'MemberUpdate' | 'MemberPromote', Unary>;
  close(): void;
}

function promisify(client: grpc.Client & Record<string, any>, methods: string[]): Record<string, Unary> {
  const out: Record<string, Unary> = {};
  for (const m of methods) {
    out[m] = (req) =>
      new Promise((ok, fail) =>
        client[m](req, { deadline: Date.now() + 30_000 }, (err: Error | null, res: unknown) =>
          err ? fail(err) : ok(res),
        ),
      );
  }
  return out;
}

export function connect(endpoint: string): EtcdApi {
  const creds = grpc.credentials.createInsecure();
  const kv = new etcdserverpb.KV(endpoint, creds);
  const maintenance = new etcdserverpb.Maintenance(endpoint, creds);
  const cluster = new etcdserverpb.Cluster(endpoint, creds);
  return {
    kv: promisify(kv, ['Range', 'Put', 'DeleteRange', 'Txn', 'Compact']) as EtcdApi['kv'],
    maintenance: {
      ...promisify(maintenance, ['Status', 'MoveLeader', 'Alarm', 'Hash', 'HashKV', 'Defragment']),
      Snapshot: (req = {}) => collect(maintenance.Snapshot(req, { deadline: Date.now() + 30_000 })),
    } as EtcdApi['maintenance'],
    cluster: promisify(cluster, [
      'MemberList',
      'MemberAdd',
      'MemberRemove',
      'MemberUpdate',
      'MemberPromote',
    ]) as EtcdApi['cluster'],
    close: () => {
      kv.close();
      maintenance.close();
      cluster.close();
    },
  };
}

/** Every message of a server stream, once it ends. */
function collect(call: grpc.ClientReadableStream<any>): Promise<any[]> {
  return new Promise((ok, fail) => {
    const out: any[] = [];
    call.on('data', (m) => out.push(m));
    call.on('error', fail);
    call.on('end', () => ok(out));
  });
}

/** Runs a call and returns either its response or its gRPC status, so two servers can be compared. */
export async function settle(p: Promise<any>): Promise<any> {
  try {
    return { ok: await p };
  } catch (err) {
    const e = err as grpc.ServiceError;
    return { error: { code: e.code, details: e.details } };
  }
}
