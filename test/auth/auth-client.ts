// A raw gRPC client for the etcd Auth, KV and Maintenance services that can send a token, for
// the auth tests (test/support/etcd-api.ts covers the token-less calls).
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/members';

const definition = protoLoader.loadSync(['etcdserverpb/rpc.proto'], {
  keepCase: true,
  longs: String,
  defaults: true,
  oneofs: true,
  includeDirs: [join(REPO_ROOT, 'proto/etcd')],
});
const etcdserverpb = (grpc.loadPackageDefinition(definition) as any).etcdserverpb;

export type Call = (method: string, req?: object, token?: string) => Promise<any>;

export interface AuthClient {
  auth: Call;
  kv: Call;
  maintenance: Call;
  lease: Call;
  cluster: Call;
  /** Opens one Watch stream, sends the create requests, returns their first replies in order. */
  watch(creates: object[], token?: string): Promise<any[]>;
  close(): void;
}

function caller(client: grpc.Client & Record<string, any>, tokenKey: string): Call {
  return (method, req = {}, token) =>
    new Promise((ok, fail) => {
      const meta = new grpc.Metadata();
      if (token !== undefined) meta.set(tokenKey, token);
      client[method](req, meta, { deadline: Date.now() + 30_000 }, (err: Error | null, res: unknown) =>
        err ? fail(err) : ok(res),
      );
    });
}

/** `tokenKey`: the metadata key the token travels in (etcd reads `token`, then `authorization`). */
export function connectAuth(endpoint: string, tokenKey = 'token'): AuthClient {
  const creds = grpc.credentials.createInsecure();
  const clients = [
    new etcdserverpb.Auth(endpoint, creds),
    new etcdserverpb.KV(endpoint, creds),
    new etcdserverpb.Maintenance(endpoint, creds),
    new etcdserverpb.Lease(endpoint, creds),
    new etcdserverpb.Watch(endpoint, creds),
    new etcdserverpb.Cluster(endpoint, creds),
  ];
  return {
    auth: caller(clients[0], tokenKey),
    kv: caller(clients[1], tokenKey),
    maintenance: caller(clients[2], tokenKey),
    lease: caller(clients[3], tokenKey),
    cluster: caller(clients[5], tokenKey),
    watch: (creates, token) =>
      new Promise((ok, fail) => {
        const meta = new grpc.Metadata();
        if (token !== undefined) meta.set(tokenKey, token);
        const call = (clients[4] as any).Watch(meta, { deadline: Date.now() + 30_000 });
        const replies: any[] = [];
        call.on('data', (r: any) => {
          if (r.header) r.header = { revision: r.header.revision };
          replies.push(r);
          if (replies.length === creates.length) call.cancel();
        });
        call.on('error', (err: any) => (replies.length === creates.length ? ok(replies) : fail(err)));
        for (const create_request of creates) call.write({ create_request });
      }),
    close: () => clients.forEach((c) => c.close()),
  };
}

/** A response without the parts two members differ in (ids, term), or the gRPC status. */
export async function outcome(p: Promise<any>): Promise<any> {
  try {
    const res = await p;
    if (res?.header) res.header = { revision: res.header.revision };
    return { ok: res };
  } catch (err) {
    const e = err as grpc.ServiceError;
    return { error: { code: e.code, details: e.details } };
  }
}
