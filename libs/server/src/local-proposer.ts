import { Engine, decodeNumber, encodeNumber, metaKey } from '../../storage/src';
import { AppliedEntry, Applier, ApplyResult } from './applier';
import { Errors } from './etcd-errors';
import { InternalRequest, decodeInternalRequest, encodeInternalRequest } from './internal-request';
import { Logger } from './logger';
import { Proposer } from './proposer';

const LOG_PREFIX = 0x72; // 'r'
const TERM_KEY = metaKey('local-term');
/** Applied entries kept before the log is truncated; a delete per batch would cost more. */
const LOG_TRUNCATE_EVERY = 10_000;

function logKey(index: number): Buffer {
  const buf = Buffer.allocUnsafe(9);
  buf[0] = LOG_PREFIX;
  buf.writeUIntBE(0, 1, 2);
  buf.writeUIntBE(index, 3, 6);
  return buf;
}

interface Pending {
  index: number;
  request: InternalRequest;
  data: Uint8Array;
  resolve: (r: ApplyResult) => void;
  reject: (e: unknown) => void;
}

/**
 * A one-member log: the write path a single member uses until it is driven by Raft.
 * Proposals arriving together are appended to a durable log with one synced write (group
 * commit, on the storage's sync thread so reads keep flowing), then applied in order; the
 * apply write also drops the entries it covered. A restart replays the unapplied tail.
 */
export class LocalProposer implements Proposer {
  private queue: Pending[] = [];
  private flushing = false;
  private scheduled = false;
  private nextIndex: number;
  private nextId = 1n;
  private stopped = false;
  private truncatedBelow = 0;
  readonly term: bigint;

  private constructor(
    private readonly engine: Engine,
    private readonly applier: Applier,
    private readonly opts: { memberId: bigint; maxRequestBytes: number; logger: Logger },
    term: bigint,
  ) {
    this.term = term;
    this.nextIndex = applier.appliedIndex + 1;
  }

  static async open(
    engine: Engine,
    applier: Applier,
    opts: { memberId: bigint; maxRequestBytes: number; logger: Logger },
  ): Promise<LocalProposer> {
    // Each start is a new term, as an election would make it; the first one is 2, like etcd's.
    const term = BigInt(Math.max(1, decodeNumber(engine.get(TERM_KEY))) + 1);
    await engine.writeSynced([{ type: 'put', key: TERM_KEY, value: encodeNumber(Number(term)) }]);
    const proposer = new LocalProposer(engine, applier, opts, term);
    await proposer.replay();
    return proposer;
  }

  get lastIndex(): number {
    return this.nextIndex - 1;
  }

  get appliedIndex(): number {
    return this.applier.appliedIndex;
  }

  get leaderId(): bigint {
    return this.opts.memberId;
  }

  propose(request: Omit<InternalRequest, 'id'>): Promise<ApplyResult> {
    if (this.stopped) return Promise.reject(Errors.stopped());
    const full: InternalRequest = { id: String(this.nextId++), ...request };
    const data = encodeInternalRequest(full);
    if (data.length > this.opts.maxRequestBytes) return Promise.reject(Errors.requestTooLarge());
    return new Promise((resolve, reject) => {
      this.queue.push({ index: 0, request: full, data, resolve, reject });
      this.schedule();
    });
  }

  /** With one member every acknowledged write is already applied: local state is linearizable. */
  readIndex(): Promise<void> {
    return this.stopped ? Promise.reject(Errors.stopped()) : Promise.resolve();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    while (this.flushing) await new Promise((r) => setImmediate(r));
    for (const p of this.queue) p.reject(Errors.stopped());
    this.queue = [];
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    // Let every request that arrived in this turn of the event loop join the batch.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.flushing || this.queue.length === 0) return;
    this.flushing = true;
    const batch = this.queue;
    this.queue = [];
    try {
      this.engine.write(
        batch.map((p) => {
          p.index = this.nextIndex++;
          return { type: 'put', key: logKey(p.index), value: p.data as Buffer };
        }),
      );
      await this.engine.sync();
      const entries: AppliedEntry[] = batch.map((p) => ({ index: p.index, request: p.request }));
      const results = this.applier.applyBatch(entries);
      this.truncateLog();
      batch.forEach((p, i) => p.resolve(results[i]));
    } catch (err) {
      // The log could not be made durable: nothing in this batch was applied or acknowledged.
      this.opts.logger.error('failed to persist log entries', { error: String(err) });
      this.nextIndex = batch[0].index || this.nextIndex;
      for (const p of batch) p.reject(Errors.stopped());
    } finally {
      this.flushing = false;
      if (this.queue.length > 0) this.schedule();
    }
  }

  /** Drops applied entries now and then, with one range delete (a restart only needs the tail). */
  private truncateLog(): void {
    const applied = this.applier.appliedIndex;
    if (applied - this.truncatedBelow < LOG_TRUNCATE_EVERY) return;
    this.engine.deleteRange(logKey(0), logKey(applied + 1));
    this.truncatedBelow = applied + 1;
  }

  private async replay(): Promise<void> {
    const from = this.applier.appliedIndex + 1;
    let replayed = 0;
    for await (const chunk of this.engine.scan(logKey(from), Buffer.from([LOG_PREFIX + 1]))) {
      const entries: AppliedEntry[] = [];
      for (const [key, value] of chunk) {
        const index = key.readUIntBE(3, 6);
        entries.push({ index, request: decodeInternalRequest(value) });
        this.nextIndex = index + 1;
      }
      this.applier.applyBatch(entries);
      replayed += entries.length;
    }
    if (replayed > 0) this.opts.logger.info('replayed unapplied log entries', { count: replayed });
    this.engine.deleteRange(logKey(0), logKey(this.applier.appliedIndex + 1));
    this.truncatedBelow = this.applier.appliedIndex + 1;
  }
}
