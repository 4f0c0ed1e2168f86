import { EngineOp, Engine } from './rocks';
import { revKey } from './encoding';
import { KeyIndex } from './key-index';

/** Keys visited per chunk: small enough that a chunk never holds the event loop for long. */
const KEYS_PER_CHUNK = 1000;

/**
 * Physical compaction in bounded chunks: trims the key index and deletes unreachable
 * revisions from RocksDB a slice at a time, yielding to the event loop between slices.
 * Requests queue up; a later target subsumes an earlier one.
 */
export class Compactor {
  private target = -1;
  private done = -1;
  private running: Promise<void> | undefined;
  private waiters: { rev: number; resolve: () => void; reject: (e: Error) => void }[] = [];

  constructor(
    private readonly engine: Engine,
    private readonly index: KeyIndex,
    private readonly finishedOps: (rev: number) => EngineOp[],
    /** Told how many record bytes each chunk removed. */
    private readonly freed: (bytes: number) => void = () => undefined,
  ) {}

  schedule(rev: number): Promise<void> {
    if (rev <= this.done) return Promise.resolve();
    this.target = Math.max(this.target, rev);
    const finished = new Promise<void>((resolve, reject) => this.waiters.push({ rev, resolve, reject }));
    this.running ??= this.run();
    return finished;
  }

  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async run(): Promise<void> {
    try {
      while (this.done < this.target) {
        const rev = this.target;
        let from: string | undefined = '';
        while (from !== undefined) {
          const deletes: EngineOp[] = [];
          let bytes = 0;
          from = this.index.compact(rev, from, KEYS_PER_CHUNK, (main, sub, size) => {
            deletes.push({ type: 'del', key: revKey(main, sub) });
            bytes += size;
          });
          if (deletes.length > 0) this.engine.write(deletes);
          this.freed(bytes);
          await new Promise((r) => setImmediate(r));
        }
        this.engine.write(this.finishedOps(rev));
        this.done = rev;
        this.settle(
          (w) => w.rev <= rev,
          (w) => w.resolve(),
        );
      }
    } catch (err) {
      this.settle(
        () => true,
        (w) => w.reject(err as Error),
      );
    } finally {
      // Cleared in the same synchronous step that saw no more work, so a schedule() racing
      // with the end of a run always starts a new one.
      this.running = undefined;
    }
  }

  private settle(
    match: (w: (typeof this.waiters)[number]) => boolean,
    act: (w: (typeof this.waiters)[number]) => void,
  ) {
    const ready = this.waiters.filter(match);
    this.waiters = this.waiters.filter((w) => !match(w));
    ready.forEach(act);
  }
}
