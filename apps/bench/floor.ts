// The transport floor: a server that speaks just enough of the etcd v3 KV API over @grpc/grpc-js
// to be benchmarked, answering every Put, Range and Txn (and the Auth calls of `--auth`) with a
// fixed response and doing no other work (no Raft, no storage, no Nest). What it costs per
// request is what the gRPC layer alone costs Cairn, so `bench:compare --cairn-cmd "node
// dist/apps/bench/floor.js"` shows how far any server built on grpc-js can get against etcd on
// this machine. Takes etcd's client-URL flag and ignores the rest, so the compare harness can
// start it like a member.
import * as grpc from '@grpc/grpc-js';
import { etcdType } from './src/proto';
import { READY_LINE } from './src/cluster';

function listenAddress(argv: string[]): string {
  const i = argv.indexOf('--listen-client-urls');
  const url = i >= 0 ? argv[i + 1].split(',')[0] : 'http://127.0.0.1:2379';
  return new URL(url).host;
}

/** The encoded response of `type` with a header, built once. */
function fixedResponse(type: string, fields: Record<string, unknown> = {}): Buffer {
  const header = { cluster_id: '1', member_id: '1', revision: '2', raft_term: '2' };
  const t = etcdType(type);
  return Buffer.from(t.encode(t.fromObject({ header, ...fields })).finish());
}

function main(): void {
  const identity = (b: Buffer) => b;
  // Answers by method path.
  const answers: Record<string, Buffer> = {
    '/etcdserverpb.KV/Range': fixedResponse('RangeResponse', {
      kvs: [
        {
          key: Buffer.from('00000001'),
          value: Buffer.alloc(256),
          create_revision: 2,
          mod_revision: 2,
          version: 1,
        },
      ],
      count: 1,
    }),
    '/etcdserverpb.KV/Put': fixedResponse('PutResponse'),
    '/etcdserverpb.KV/Txn': fixedResponse('TxnResponse', { succeeded: true }),
    // Enough of the Auth service for `bench:compare --auth`: the setup calls succeed and every
    // login gets the same token, which the floor then ignores (checking it is Cairn's cost,
    // not the transport's).
    '/etcdserverpb.Auth/UserAdd': fixedResponse('AuthUserAddResponse'),
    '/etcdserverpb.Auth/UserGrantRole': fixedResponse('AuthUserGrantRoleResponse'),
    '/etcdserverpb.Auth/RoleAdd': fixedResponse('AuthRoleAddResponse'),
    '/etcdserverpb.Auth/RoleGrantPermission': fixedResponse('AuthRoleGrantPermissionResponse'),
    '/etcdserverpb.Auth/AuthEnable': fixedResponse('AuthEnableResponse'),
    '/etcdserverpb.Auth/Authenticate': fixedResponse('AuthenticateResponse', { token: 'floor.token' }),
  };
  const service: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
  const handlers: grpc.UntypedServiceImplementation = {};
  for (const [path, answer] of Object.entries(answers)) {
    service[path] = {
      path,
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    };
    handlers[path] = (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
      cb(null, answer);
  }
  const server = new grpc.Server({ 'grpc.enable_channelz': 0 });
  server.addService(service, handlers);
  server.bindAsync(listenAddress(process.argv), grpc.ServerCredentials.createInsecure(), (err) => {
    if (err) {
      process.stderr.write(`floor: ${err.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`{"msg":"${READY_LINE}"}\n`);
  });
  for (const sig of ['SIGTERM', 'SIGINT'] as const)
    process.once(sig, () => {
      server.forceShutdown();
      process.exit(0);
    });
}

main();
