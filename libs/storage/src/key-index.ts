import BTree from 'sorted-btree';

/**
 * The in-memory ordered key index: for every key, its revisions in order. It holds each
 * revision's metadata (but not its value), so counts, keys-only reads and compares on
 * version, create/mod revision and lease never touch the disk.
 *
 * Keys are kept as latin1 strings: one char per byte, so JavaScript's string order is
 * exactly the unsigned byte order etcd sorts by.
 */
export interface IndexedRevision {
  main: number;
  sub: number;
  createRevision: number;
  version: number;
  lease: bigint;
  tombstone: boolean;
  /** Bytes the revision's record takes on disk (key and value), for the store's size in use. */
  size?: number;
}

export type KeyHistory = IndexedRevision[];

export const keyString = (key: Buffer): string => key.toString('latin1');
export const keyBuffer = (key: string): Buffer => Buffer.from(key, 'latin1');

/** The last revision of a history at or below `rev`, or undefined if there is none or it is a tombstone. */
export function liveAt(history: KeyHistory, rev: number): IndexedRevision | undefined {
  let lo = 0;
  let hi = history.length - 1;
  if (hi < 0) return undefined;
  if (history[hi].main <= rev) return history[hi].tombstone ? undefined : history[hi];
  // Binary search for the last entry with main <= rev.
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (history[mid].main <= rev) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (found < 0 || history[found].tombstone) return undefined;
  return history[found];
}

/** A key range as etcd defines it: end undefined = the single key `start`; end null = every key >= start. */
export interface KeyRange {
  start: string;
  end: string | undefined | null;
}

// Keys are always strings: the library's default comparator first tests for numbers and
// objects on every comparison.
const compareKeys = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export class KeyIndex {
  private readonly tree = new BTree<string, KeyHistory>(undefined, compareKeys);
  /**
   * The same histories by key, for point lookups (every put, delete of one key and compare
   * reads one): a hash lookup instead of a walk down the tree's nodes, which costs a cache
   * miss per level.
   */
  private readonly byKey = new Map<string, KeyHistory>();

  get size(): number {
    return this.tree.size;
  }

  history(key: string): KeyHistory | undefined {
    return this.byKey.get(key);
  }

  /** The live revision of `key` at `rev`. */
  get(key: string, rev: number): IndexedRevision | undefined {
    const h = this.byKey.get(key);
    return h ? liveAt(h, rev) : undefined;
  }

  append(key: string, entry: IndexedRevision): void {
    const h = this.byKey.get(key);
    if (h) h.push(entry);
    else {
      const created = [entry];
      this.tree.set(key, created);
      this.byKey.set(key, created);
    }
  }

  /** Visits the keys live at `rev` inside `range`, in key order, until `visit` returns false. */
  forEachLive(range: KeyRange, rev: number, visit: (key: string, entry: IndexedRevision) => boolean): void {
    if (range.end === undefined) {
      const entry = this.get(range.start, rev);
      if (entry) visit(range.start, entry);
      return;
    }
    const end = range.end;
    if (end !== null && end <= range.start) return;
    for (const [key, history] of this.tree.entries(range.start)) {
      if (end !== null && key >= end) return;
      const entry = liveAt(history, rev);
      if (entry && !visit(key, entry)) return;
    }
  }

  /**
   * Drops what compaction at `rev` makes unreachable, for at most `maxKeys` keys starting at
   * `fromKey`: every revision below the last one at or under `rev`, and that one too if it is
   * a tombstone. Reports each dropped revision; returns the key to resume from, if any.
   */
  compact(
    rev: number,
    fromKey: string,
    maxKeys: number,
    dropped: (main: number, sub: number, size: number) => void,
  ): string | undefined {
    const emptied: string[] = [];
    let visited = 0;
    let resumeAt: string | undefined;
    for (const [key, history] of this.tree.entries(fromKey)) {
      if (visited++ === maxKeys) {
        resumeAt = key;
        break;
      }
      let keepFrom = 0;
      for (let i = 0; i < history.length && history[i].main <= rev; i++) keepFrom = i;
      if (history[0].main > rev) continue;
      if (history[keepFrom].tombstone) keepFrom++;
      if (keepFrom === 0) continue;
      for (let i = 0; i < keepFrom; i++) dropped(history[i].main, history[i].sub, history[i].size ?? 0);
      history.splice(0, keepFrom);
      if (history.length === 0) emptied.push(key);
    }
    for (const key of emptied) {
      this.tree.delete(key);
      this.byKey.delete(key);
    }
    return resumeAt;
  }
}
