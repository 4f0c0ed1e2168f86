import { MvccEvent } from '../../storage/src';
import { Watcher } from './watcher';

/**
 * The synced watchers, indexed so that an applied batch finds its watchers cheaply:
 * single-key watchers by key, range watchers in a list checked per event.
 */
export class WatcherGroup {
  private readonly byKey = new Map<string, Set<Watcher>>();
  private readonly ranges = new Set<Watcher>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  has(w: Watcher): boolean {
    return w.isSingleKey ? !!this.byKey.get(w.start)?.has(w) : this.ranges.has(w);
  }

  add(w: Watcher): void {
    if (this.has(w)) return;
    if (w.isSingleKey) {
      let set = this.byKey.get(w.start);
      if (!set) this.byKey.set(w.start, (set = new Set()));
      set.add(w);
    } else this.ranges.add(w);
    this.count++;
  }

  delete(w: Watcher): boolean {
    let removed: boolean;
    if (w.isSingleKey) {
      const set = this.byKey.get(w.start);
      removed = !!set?.delete(w);
      if (set && set.size === 0) this.byKey.delete(w.start);
    } else removed = this.ranges.delete(w);
    if (removed) this.count--;
    return removed;
  }

  *[Symbol.iterator](): IterableIterator<Watcher> {
    for (const set of this.byKey.values()) yield* set;
    yield* this.ranges;
  }

  /** Each watcher's events of the batch (in the batch's order), filters and start revision applied. */
  match(events: MvccEvent[]): Map<Watcher, MvccEvent[]> {
    const out = new Map<Watcher, MvccEvent[]>();
    const add = (w: Watcher, ev: MvccEvent) => {
      if (ev.kv.modRevision < w.next || !w.accepts(ev)) return;
      const list = out.get(w);
      if (list) list.push(ev);
      else out.set(w, [ev]);
    };
    for (const ev of events) {
      const key = ev.kv.key.toString('latin1');
      const exact = this.byKey.get(key);
      if (exact) for (const w of exact) add(w, ev);
      for (const w of this.ranges) if (w.covers(key)) add(w, ev);
    }
    return out;
  }
}
