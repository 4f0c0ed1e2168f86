// The watch workload's watchers: --watchers streams, each watching the whole key space, spread
// over their own connections. They count, per revision, how many watchers have received it,
// so a put can wait until its event has reached every watcher (put-to-delivery latency).
import * as grpc from '@grpc/grpc-js';
import { frameFields } from './wire';

const WATCH = '/etcdserverpb.Watch/Watch';
const identity = (b: Buffer) => b;
/** WatchRequest{create_request{key: "\0", range_end: "\0"}}: every key. */
const CREATE_ALL = Buffer.from([0x0a, 0x06, 0x0a, 0x01, 0x00, 0x12, 0x01, 0x00]);

export class WatchFanout {
  private readonly clients: grpc.Client[] = [];
  private readonly calls: grpc.ClientDuplexStream<Buffer, Buffer>[] = [];
  /** Revision -> watchers that received it before its put was answered. */
  private readonly early = new Map<number, number>();
  private readonly waiting = new Map<number, { remaining: number; resolve: () => void }>();

  constructor(private readonly watchers: number) {}

  /** Opens every watcher and waits until each is created. */
  async open(endpoints: string[], conns: number): Promise<void> {
    for (let i = 0; i < Math.min(conns, this.watchers); i++) {
      this.clients.push(
        new grpc.Client(endpoints[i % endpoints.length], grpc.credentials.createInsecure(), {
          'grpc.use_local_subchannel_pool': 1,
          'grpc.max_receive_message_length': -1,
          'grpc.enable_channelz': 0,
        }),
      );
    }
    const created: Promise<void>[] = [];
    for (let i = 0; i < this.watchers; i++) {
      const call = this.clients[i % this.clients.length].makeBidiStreamRequest(WATCH, identity, identity);
      this.calls.push(call);
      created.push(
        new Promise((resolve, reject) => {
          call.on('error', reject);
          call.on('data', (msg: Buffer) => {
            const { created: isCreated, revisions } = readWatchResponse(msg);
            if (isCreated) resolve();
            for (const rev of revisions) this.seen(rev);
          });
        }),
      );
      call.write(CREATE_ALL);
    }
    await Promise.all(created);
    // Past set-up, a failing stream must not crash the run: its puts just never complete.
    for (const call of this.calls) call.removeAllListeners('error').on('error', () => undefined);
  }

  /** Resolves once every watcher has received revision `rev`. */
  delivered(rev: number): Promise<void> {
    const got = this.early.get(rev) ?? 0;
    this.early.delete(rev);
    if (got >= this.watchers) return Promise.resolve();
    return new Promise((resolve) => this.waiting.set(rev, { remaining: this.watchers - got, resolve }));
  }

  close(): void {
    for (const call of this.calls) call.cancel();
    for (const client of this.clients) client.close();
  }

  private seen(rev: number): void {
    const w = this.waiting.get(rev);
    if (!w) return void this.early.set(rev, (this.early.get(rev) ?? 0) + 1);
    if (--w.remaining === 0) {
      this.waiting.delete(rev);
      w.resolve();
    }
  }
}

/**
 * Reads just what the bench needs from a WatchResponse, without a full decode (the bench
 * would otherwise spend more CPU decoding events than the server spends sending them): the
 * created flag and the distinct mod revisions of its events.
 */
export function readWatchResponse(msg: Buffer): { created: boolean; revisions: number[] } {
  let created = false;
  const revisions: number[] = [];
  frameFields(msg, (field, value) => {
    if (field === 3 && typeof value === 'number') created = value !== 0;
    if (field !== 11 || typeof value === 'number') return;
    frameFields(value, (f, kv) => {
      if (f !== 2 || typeof kv === 'number') return;
      frameFields(kv, (k, v) => {
        if (k === 3 && typeof v === 'number' && revisions[revisions.length - 1] !== v) revisions.push(v);
      });
    });
  });
  return { created, revisions };
}
