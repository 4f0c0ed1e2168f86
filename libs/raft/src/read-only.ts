import { Message, ReadOnlyOption } from './types';

/** A ReadIndex request waiting for its heartbeat round to reach a quorum. */
export interface ReadIndexStatus {
  req: Message;
  index: bigint;
  acks: Map<bigint, boolean>;
}

/** Request contexts are bytes; a latin1 string is a cheap, exact map key for them. */
export function contextKey(ctx: Uint8Array): string {
  return Buffer.from(ctx.buffer, ctx.byteOffset, ctx.length).toString('latin1');
}

/**
 * The leader's queue of pending ReadIndex requests (Safe mode). A heartbeat
 * acknowledged for one context also confirms every request queued before it,
 * because that request's round started after theirs arrived.
 */
export class ReadOnly {
  private pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  constructor(readonly option: ReadOnlyOption) {}

  /** Queues a request that may be answered with `index` once a quorum confirms leadership. */
  addRequest(index: bigint, m: Message): boolean {
    const key = contextKey(m.context);
    if (this.pending.has(key)) return false;
    this.pending.set(key, { req: m, index, acks: new Map() });
    this.queue.push(key);
    return true;
  }

  /** Records a heartbeat acknowledgement; returns the acks for that context so far. */
  recvAck(id: bigint, context: Uint8Array): Map<bigint, boolean> | undefined {
    const rs = this.pending.get(contextKey(context));
    if (!rs) return undefined;
    rs.acks.set(id, true);
    return rs.acks;
  }

  /** Dequeues the confirmed request for `context` and every request queued before it. */
  advance(context: Uint8Array): ReadIndexStatus[] {
    const key = contextKey(context);
    const at = this.queue.indexOf(key);
    if (at < 0) return [];
    const done: ReadIndexStatus[] = [];
    for (let i = 0; i <= at; i++) {
      const k = this.queue[i];
      const rs = this.pending.get(k);
      if (!rs) throw new Error('cannot find corresponding read state from pending map');
      done.push(rs);
      this.pending.delete(k);
    }
    this.queue = this.queue.slice(at + 1);
    return done;
  }

  lastPendingRequestCtx(): Uint8Array | undefined {
    if (this.queue.length === 0) return undefined;
    return this.pending.get(this.queue[this.queue.length - 1])!.req.context;
  }

  pendingCount(): number {
    return this.queue.length;
  }
}
