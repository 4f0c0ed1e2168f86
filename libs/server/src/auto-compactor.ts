import { MvccStore } from '../../storage/src';
import { Logger } from './logger';

export type AutoCompactionPolicy =
  | { readonly mode: 'periodic'; readonly retentionMs: number }
  | { readonly mode: 'revision'; readonly retentionRevisions: number };

/** How often revision mode looks at the store (etcd checks every five minutes). */
const REVISION_MODE_INTERVAL_MS = 5 * 60_000;

/**
 * etcd's --auto-compaction-mode. Periodic: keep `retention` worth of history, sampling the
 * revision every tenth of the window and compacting to the sample taken one window ago.
 * Revision: every five minutes, compact to (current revision - retention).
 */
export class AutoCompactor {
  private readonly timer: NodeJS.Timeout;
  private readonly samples: { at: number; revision: number }[] = [];

  constructor(
    private readonly policy: AutoCompactionPolicy,
    private readonly store: MvccStore,
    private readonly compact: (revision: number) => Promise<unknown>,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    const every =
      policy.mode === 'periodic'
        ? Math.max(1000, Math.floor(policy.retentionMs / 10))
        : REVISION_MODE_INTERVAL_MS;
    this.timer = setInterval(() => void this.tick(), every);
    this.timer.unref();
  }

  /** One check; exposed for tests. Returns the revision it compacted to, if any. */
  async tick(): Promise<number | undefined> {
    const target = this.target();
    if (target === undefined || target <= this.store.compactedRevision) return undefined;
    try {
      await this.compact(target);
      this.logger.info('auto compaction finished', { revision: target, mode: this.policy.mode });
      return target;
    } catch (err) {
      this.logger.warn('auto compaction failed', { revision: target, error: String(err) });
      return undefined;
    }
  }

  private target(): number | undefined {
    const current = this.store.revision;
    if (this.policy.mode === 'revision') {
      const target = current - this.policy.retentionRevisions;
      return target > 0 ? target : undefined;
    }
    const now = this.now();
    this.samples.push({ at: now, revision: current });
    // The newest sample at least one retention window old is the compaction point.
    let chosen: number | undefined;
    while (this.samples.length > 0 && now - this.samples[0].at >= this.policy.retentionMs) {
      chosen = this.samples.shift()!.revision;
    }
    return chosen !== undefined && chosen > 0 ? chosen : undefined;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
