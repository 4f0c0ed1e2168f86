// The lease workload: every client grants itself a lease and opens its own LeaseKeepAlive stream
// before timing starts, then sends keep-alives on it one at a time; a request is timed from the
// keep-alive sent to its answer. The stream goes through grpc-js whatever --transport says (the bare h2 transport only
// speaks unary calls).
import * as grpc from '@grpc/grpc-js';
import { Conn } from './conn';
import { etcdType } from './proto';
import type { Workload, WorkloadClient } from './workloads';

const GRANT = '/etcdserverpb.Lease/LeaseGrant';
const KEEP_ALIVE = '/etcdserverpb.Lease/LeaseKeepAlive';
/** Long enough never to expire during a run, even if a client stalls. */
const TTL = 600;

/** One grpc-js channel per bench connection, shared by its clients' streams; closed with the last. */
const channels = new WeakMap<Conn, { client: grpc.Client; users: number }>();
function openChannel(conn: Conn): grpc.Client {
  let channel = channels.get(conn);
  if (!channel) {
    const client = new grpc.Client(conn.endpoint, grpc.credentials.createInsecure(), {
      'grpc.use_local_subchannel_pool': 1,
      'grpc.enable_channelz': 0,
      'grpc.enable_retries': 0,
    });
    channel = { client, users: 0 };
    channels.set(conn, channel);
  }
  channel.users++;
  return channel.client;
}
function releaseChannel(conn: Conn): void {
  const channel = channels.get(conn);
  if (channel && --channel.users === 0) {
    channel.client.close();
    channels.delete(conn);
  }
}

export function leaseKeepAliveWorkload(): Workload {
  const GrantRequest = etcdType('LeaseGrantRequest');
  const GrantResponse = etcdType('LeaseGrantResponse');
  const KeepAliveRequest = etcdType('LeaseKeepAliveRequest');
  const KeepAliveResponse = etcdType('LeaseKeepAliveResponse');

  const newClient = (conn: Conn): WorkloadClient => {
    const stream = openChannel(conn).makeBidiStreamRequest(
      KEEP_ALIVE,
      (b: Buffer) => b,
      (b: Buffer) => KeepAliveResponse.decode(b) as unknown as { TTL: { toString(): string } },
    );
    const waiting: { resolve: () => void; reject: (e: unknown) => void }[] = [];
    stream.on('data', (res: { TTL: { toString(): string } }) => {
      const w = waiting.shift();
      if (!w) return;
      if (res.TTL.toString() === '0') w.reject(new Error('keep-alive answered TTL 0: lease not found'));
      else w.resolve();
    });
    stream.on('error', (e) => {
      for (const w of waiting.splice(0)) w.reject(e);
    });
    // Granted once, before the first keep-alive; the encoded keep-alive is then reused.
    const request = conn
      .unary(GRANT, Buffer.from(GrantRequest.encode({ TTL }).finish()), (b) => GrantResponse.decode(b))
      .then((res) =>
        Buffer.from(KeepAliveRequest.encode({ ID: (res as unknown as { ID: unknown }).ID }).finish()),
      );
    const keepAlive = async () => {
      const msg = await request;
      await new Promise<void>((resolve, reject) => {
        waiting.push({ resolve, reject });
        stream.write(msg);
      });
    };
    return {
      issue: keepAlive,
      // The grant and the stream's first exchange happen before timing: a request is one
      // keep-alive on an open stream, not a lease grant through consensus.
      ready: keepAlive,
      close: () => {
        stream.end();
        releaseChannel(conn);
      },
    };
  };
  return { name: 'lease-keepalive', newClient };
}
