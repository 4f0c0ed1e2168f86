// A thin gRPC client for etcd's Lease service (and KV, to attach keys), for tests.
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

export interface LeaseApi {
  grant: Unary;
  revoke: Unary;
  timeToLive: Unary;
  leases: () => Promise<any>;
  put: Unary;
  range: Unary;
  deleteRange: Unary;
  txn: Unary;
  /** Opens one keep-alive stream, sends every id, and returns the responses once all arrived. */
  keepAlive(ids: (string | number)[]): Promise<any[]>;
  close(): void;
}

function unary(client: any, method: string): Unary {
  return (req) =>
    new Promise((ok, fail) =>
      client[method](req, { deadline: Date.now() + 30_000 }, (err: Error | null, res: unknown) =>
        err ? fail(err) : ok(res),
      ),
    );
}

export function connectLease(endpoint: string): LeaseApi {
  const creds = grpc.credentials.createInsecure();
  const lease = new etcdserverpb.Lease(endpoint, creds);
  const kv = new etcdserverpb.KV(endpoint, creds);
  return {
    grant: unary(lease, 'LeaseGrant'),
    revoke: unary(lease, 'LeaseRevoke'),
    timeToLive: unary(lease, 'LeaseTimeToLive'),
    leases: () => unary(lease, 'LeaseLeases')({}),
    put: unary(kv, 'Put'),
    range: unary(kv, 'Range'),
    deleteRange: unary(kv, 'DeleteRange'),
    txn: unary(kv, 'Txn'),
    keepAlive: (ids) =>
      new Promise((ok, fail) => {
        const call = lease.LeaseKeepAlive({ deadline: Date.now() + 30_000 });
        const out: any[] = [];
        call.on('data', (m: any) => {
          out.push(m);
          if (out.length === ids.length) call.end();
        });
        call.on('error', fail);
        call.on('end', () => ok(out));
        for (const ID of ids) call.write({ ID });
        if (ids.length === 0) call.end();
      }),
    close: () => {
      lease.close();
      kv.close();
    },
  };
}
