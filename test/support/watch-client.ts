// A raw Watch stream client for tests: sends WatchRequests, records every WatchResponse.
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

export interface WatchClient {
  responses: any[];
  /** Events received so far, over all watch ids (kept as they arrive: cheap to poll). */
  eventCount(): number;
  send(req: object): void;
  /** Resolves once some response satisfies `pred` (rejects after `timeoutMs`). */
  waitFor(pred: (responses: any[]) => boolean, timeoutMs?: number): Promise<void>;
  /** Resolves once no response arrived for `quietMs`. */
  quiet(quietMs?: number): Promise<void>;
  /** Stops reading (HTTP/2 flow control then stalls the server's writes), and reads again. */
  pause(): void;
  resume(): void;
  error: () => grpc.ServiceError | undefined;
  ended: () => boolean;
  close(): void;
}

/** One Watch stream on its own channel (a client that stops reading then stalls only itself). */
export function openWatch(endpoint: string, opts: { channel?: grpc.Client } = {}): WatchClient {
  const client = opts.channel ?? watchChannel(endpoint);
  const call: grpc.ClientDuplexStream<object, any> = (client as any).Watch();
  const responses: any[] = [];
  let err: grpc.ServiceError | undefined;
  let ended = false;
  let last = Date.now();
  let events = 0;
  call.on('data', (r) => {
    responses.push(r);
    events += r.events.length;
    last = Date.now();
  });
  call.on('error', (e: grpc.ServiceError) => (err = e));
  call.on('end', () => (ended = true));
  const poll = (done: () => boolean, timeoutMs: number, what: string) =>
    new Promise<void>((ok, fail) => {
      const deadline = Date.now() + timeoutMs;
      const tick = () => {
        if (done()) return ok();
        if (Date.now() > deadline)
          return fail(new Error(`timed out waiting for ${what} (${responses.length} responses so far)`));
        setTimeout(tick, 10);
      };
      tick();
    });
  return {
    responses,
    eventCount: () => events,
    send: (req) => call.write(req),
    waitFor: (pred, timeoutMs = 20_000) => poll(() => pred(responses), timeoutMs, 'watch responses'),
    quiet: (quietMs = 400) => {
      const since = Date.now();
      return poll(() => Date.now() - Math.max(last, since) >= quietMs, 60_000, 'a quiet stream');
    },
    pause: () => call.pause(),
    resume: () => call.resume(),
    error: () => err,
    ended: () => ended,
    close: () => {
      call.cancel();
      if (!opts.channel) client.close();
    },
  };
}

/** Opens a Watch client channel to share between streams. */
export function watchChannel(endpoint: string): grpc.Client {
  // As etcd's Go client: no limit on received messages (a history replay may be large). Each
  // channel has its own connection, as separate clients would (grpc-js shares them otherwise).
  return new etcdserverpb.Watch(endpoint, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': -1,
    'grpc.use_local_subchannel_pool': 1,
  });
}

/** A response with the member-specific header fields replaced, for comparing two members. */
export function normalizeResponse(r: any): any {
  const { header, ...rest } = r;
  return { ...rest, header: { revision: header?.revision ?? '0' } };
}

/** What a watch id received, in order, with events flattened (grouping into responses aside). */
export function perWatch(responses: any[]): Record<string, any[]> {
  const out: Record<string, any[]> = {};
  for (const r of responses) {
    const list = (out[r.watch_id] ??= []);
    if (r.events.length > 0) for (const ev of r.events) list.push({ event: ev });
    else {
      const { events: _e, header: _h, fragment: _f, ...flags } = r;
      list.push(flags);
    }
  }
  return out;
}
