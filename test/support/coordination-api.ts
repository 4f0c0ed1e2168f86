// A thin gRPC client for the v3lockpb.Lock and v3electionpb.Election services (and the Lease
// and KV calls a scenario needs around them), for tests.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { join } from 'node:path';
import { REPO_ROOT } from './members';

const definition = protoLoader.loadSync(
  ['etcdserverpb/rpc.proto', 'v3lockpb/v3lock.proto', 'v3electionpb/v3election.proto'],
  {
    keepCase: true,
    longs: String,
    defaults: true,
    oneofs: true,
    includeDirs: [join(REPO_ROOT, 'proto/etcd')],
  },
);
const pkg = grpc.loadPackageDefinition(definition) as any;

/** A unary call in flight, which the caller may cancel as a client that gives up would. */
export interface PendingCall {
  promise: Promise<any>;
  cancel(): void;
}

/** The messages of an Observe stream as they arrive. */
export interface ObserveStream {
  messages: any[];
  /** Resolves once `count` messages have arrived. */
  until(count: number): Promise<any[]>;
  /** How the stream ended: its final status code and details. */
  ended: Promise<{ code: number; details: string }>;
  cancel(): void;
}

export interface CoordinationApi {
  call(service: 'lock' | 'election' | 'lease' | 'kv', method: string, req: object): PendingCall;
  /** The same call, awaited. */
  unary(service: 'lock' | 'election' | 'lease' | 'kv', method: string, req: object): Promise<any>;
  observe(name: string): ObserveStream;
  close(): void;
}

/** `token`: sent with every call, as an authenticated client does. */
export function connectCoordination(endpoint: string, token?: string): CoordinationApi {
  const creds = grpc.credentials.createInsecure();
  const meta = new grpc.Metadata();
  if (token !== undefined) meta.set('token', token);
  const clients: Record<string, any> = {
    lock: new pkg.v3lockpb.Lock(endpoint, creds),
    election: new pkg.v3electionpb.Election(endpoint, creds),
    lease: new pkg.etcdserverpb.Lease(endpoint, creds),
    kv: new pkg.etcdserverpb.KV(endpoint, creds),
  };
  const call: CoordinationApi['call'] = (service, method, req) => {
    let handle: grpc.ClientUnaryCall | undefined;
    const promise = new Promise((ok, fail) => {
      handle = clients[service][method](req, meta, (err: Error | null, res: unknown) =>
        err ? fail(err) : ok(res),
      );
    });
    return { promise, cancel: () => handle?.cancel() };
  };
  return {
    call,
    unary: (service, method, req) => call(service, method, req).promise,
    observe: (name) => {
      const stream = clients.election.Observe({ name: Buffer.from(name) }, meta);
      const messages: any[] = [];
      const waiters: (() => void)[] = [];
      stream.on('data', (m: any) => {
        messages.push(m);
        waiters.splice(0).forEach((w) => w());
      });
      stream.on('error', () => undefined);
      const ended = new Promise<{ code: number; details: string }>((ok) =>
        stream.on('status', (st: grpc.StatusObject) => ok({ code: st.code, details: st.details })),
      );
      const until = async (count: number) => {
        while (messages.length < count) await new Promise<void>((r) => waiters.push(r));
        return messages.slice(0, count);
      };
      return { messages, until, ended, cancel: () => stream.cancel() };
    },
    close: () => Object.values(clients).forEach((c) => c.close()),
  };
}

/** A call's response or its gRPC status, so that two servers' answers can be compared. */
export async function outcome(p: Promise<any>): Promise<any> {
  try {
    return { ok: await p };
  } catch (err) {
    const e = err as grpc.ServiceError;
    return { error: { code: e.code, details: e.details } };
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until exactly `count` keys exist under `prefix` (its last byte below 0xff). */
export async function waitForKeys(api: CoordinationApi, prefix: string, count: number): Promise<void> {
  const key = Buffer.from(prefix);
  const range_end = Buffer.from(
    prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1),
  );
  while (Number((await api.unary('kv', 'Range', { key, range_end, count_only: true })).count) !== count)
    await sleep(20);
}
