import { EventType, KeyValue, MvccEvent } from '../../storage/src';
import { WatchEvent, WatchableStore } from './types';
import { Watcher } from './watcher';
import { WatcherGroup } from './watcher-group';

export interface WatchHubOptions {
  /** Revisions read from history per step of a catch-up (etcd reads 1000 at a time). */
  chunkRevisions?: number;
  /** Told about failures of the background catch-up (which then retries on the next kick). */
  onError?: (err: unknown) => void;
}

/**
 * The watch hub: fans each applied batch's events out to the watchers that are caught up
 * ("synced"), and replays history for the others ("unsynced": created at an old revision, or
 * moved aside because their stream could not take more) in bounded chunks, then promotes
 * them to synced with neither gap nor duplicate. A stream that is full never blocks the apply
 * loop: its watchers stop being fed and later catch up from history, or are told that the
 * revision they need was compacted.
 */
export class WatchHub {
  private readonly synced = new WatcherGroup();
  private readonly unsynced = new Set<Watcher>();
  private syncing = false;
  private closed = false;
  private readonly chunkRevisions: number;
  /** The last revision synced watchers were given (or had no events of). */
  private published: number;

  constructor(
    private readonly store: WatchableStore,
    private readonly opts: WatchHubOptions = {},
  ) {
    this.chunkRevisions = opts.chunkRevisions ?? 1000;
    this.published = store.revision;
  }

  /** Watchers by state (tests and metrics). */
  get counts(): { synced: number; unsynced: number } {
    return { synced: this.synced.size, unsynced: this.unsynced.size };
  }

  /** Nothing to catch up on (watchers of full streams wait for their stream, not for the hub). */
  get idle(): boolean {
    return !this.syncing && !this.hasRunnable();
  }

  get revision(): number {
    return this.store.revision;
  }

  isSynced(w: Watcher): boolean {
    return this.synced.has(w);
  }

  /** Starts a watcher; as etcd, start revision 0 or one in the future needs no replay. */
  add(w: Watcher): void {
    const current = this.store.revision;
    const start = w.spec.startRevision;
    if (start === 0 || start > current) {
      w.next = Math.max(current + 1, start);
      this.synced.add(w);
    } else {
      w.next = start;
      this.unsynced.add(w);
      this.kick();
    }
  }

  remove(w: Watcher): void {
    w.closed = true;
    this.synced.delete(w);
    this.unsynced.delete(w);
  }

  /**
   * Called by the apply loop with every event of an applied batch, in revision order, once
   * the batch is written and before its writers hear back. Cheap when nobody watches.
   */
  publish(events: MvccEvent[], revision: number): void {
    this.published = revision;
    if (this.synced.size === 0 || events.length === 0) return;
    const prev = new PrevKvReader(this.store);
    for (const [w, evs] of this.synced.match(events)) {
      if (!w.output.ready) {
        // Moved aside: it replays this batch from history once its stream drains.
        this.synced.delete(w);
        w.next = Math.max(w.next, events[0].kv.modRevision);
        this.unsynced.add(w);
        continue;
      }
      w.output.events(w.id, w.spec.prevKv ? prev.attach(evs) : evs, revision);
    }
  }

  /**
   * The store jumped ahead without publishing (a snapshot replaced it on this follower): every
   * synced watcher catches up from history after what it was given, or is told its next
   * revision was compacted away, as etcd's watchers are after a snapshot restore.
   */
  resync(): void {
    for (const w of [...this.synced]) {
      this.synced.delete(w);
      w.next = Math.max(w.next, this.published + 1);
      this.unsynced.add(w);
    }
    this.published = this.store.revision;
    this.kick();
  }

  /** Resumes catching up (a stream drained, or a watcher needs history). */
  kick(): void {
    if (this.syncing || this.closed || !this.hasRunnable()) return;
    this.syncing = true;
    void this.syncLoop();
  }

  close(): void {
    this.closed = true;
    for (const w of [...this.synced, ...this.unsynced]) this.remove(w);
  }

  private hasRunnable(): boolean {
    for (const w of this.unsynced) if (w.output.ready) return true;
    return false;
  }

  private async syncLoop(): Promise<void> {
    try {
      for (;;) {
        const batch = [...this.unsynced].filter((w) => w.output.ready);
        if (batch.length === 0 || this.closed) break;
        await this.syncChunk(batch);
        // Let the apply loop and the streams run between chunks.
        await new Promise((r) => setImmediate(r));
      }
    } catch (err) {
      this.opts.onError?.(err);
    } finally {
      this.syncing = false;
    }
  }

  /** One step of catching up: up to `chunkRevisions` revisions of history for `batch`. */
  private async syncChunk(batch: Watcher[]): Promise<void> {
    const current = this.store.revision;
    let pending = this.dropCompacted(batch);
    pending = pending.filter((w) => !this.promoteIfCaughtUp(w));
    if (pending.length === 0) return;

    const from = Math.min(...pending.map((w) => w.next));
    const to = Math.min(current, from + this.chunkRevisions - 1);
    const events: MvccEvent[] = [];
    for await (const chunk of this.store.history(from, to)) for (const ev of chunk) events.push(ev);

    // A compaction during the read may have dropped revisions some watchers still needed.
    pending = this.dropCompacted(pending.filter((w) => !w.closed && this.unsynced.has(w)));
    const prev = new PrevKvReader(this.store);
    for (const w of pending) {
      if (w.next > to) continue;
      if (!w.output.ready) continue;
      const evs = events.filter((ev) => ev.kv.modRevision >= w.next && w.accepts(ev) && w.covers(keyOf(ev)));
      if (evs.length > 0) w.output.events(w.id, w.spec.prevKv ? prev.attach(evs) : evs, to);
      w.next = to + 1;
      this.promoteIfCaughtUp(w);
    }
  }

  /** Cancels, as etcd does, the watchers whose next revision is compacted; returns the rest. */
  private dropCompacted(watchers: Watcher[]): Watcher[] {
    const compacted = this.store.compactedRevision;
    return watchers.filter((w) => {
      if (w.next >= compacted) return true;
      this.remove(w);
      w.output.compacted(w.id, compacted);
      return false;
    });
  }

  /** Synced once it has everything up to the current revision: the next batch then feeds it. */
  private promoteIfCaughtUp(w: Watcher): boolean {
    if (w.next <= this.store.revision) return false;
    this.unsynced.delete(w);
    this.synced.add(w);
    return true;
  }
}

const keyOf = (ev: MvccEvent): string => ev.kv.key.toString('latin1');

/**
 * Attaches prev_kv as etcd does: the key as of the revision before the event, read from
 * history (nothing for a create, or when that revision is compacted). Each event is read at
 * most once per batch, however many watchers asked.
 */
class PrevKvReader {
  private readonly done = new Map<MvccEvent, WatchEvent>();

  constructor(private readonly store: WatchableStore) {}

  attach(events: MvccEvent[]): WatchEvent[] {
    return events.map((ev) => {
      let out = this.done.get(ev);
      if (!out) {
        const prevKv = this.read(ev);
        out = prevKv ? { ...ev, prevKv } : ev;
        this.done.set(ev, out);
      }
      return out;
    });
  }

  private read(ev: MvccEvent): KeyValue | undefined {
    if (ev.type === EventType.PUT && ev.kv.version === 1) return undefined;
    try {
      return this.store.range({ key: ev.kv.key, revision: ev.kv.modRevision - 1 }).result.kvs[0];
    } catch {
      return undefined;
    }
  }
}
