import { CompactedError, SnapshotOutOfDateError, UnavailableError } from './errors';
import {
  ConfState,
  Entry,
  EntryType,
  HardState,
  Snapshot,
  SnapshotMetadata,
  EMPTY_BYTES,
  emptyConfState,
  emptyHardState,
  entrySize,
} from './types';

/**
 * The node's read access to the durable log. The library never writes through
 * it: the driver persists what a Ready hands out and then makes it visible here.
 * All methods are synchronous, so a durable implementation keeps the retained
 * log tail in memory (or uses MemoryStorage as a mirror of its disk state).
 */
export interface Storage {
  /** Hard state and configuration to start from (the config of the latest snapshot or applied conf change). */
  initialState(): { hardState: HardState; confState: ConfState };
  /**
   * Entries in [lo, hi), at least one if any are in range, and stopping before
   * their total size exceeds maxSize. Throws CompactedError if lo was compacted
   * away and UnavailableError if the range is past the end.
   */
  entries(lo: bigint, hi: bigint, maxSize: number): Entry[];
  /** Term of entry i; i may be firstIndex()-1 (the snapshot's index). Throws CompactedError / UnavailableError. */
  term(i: bigint): bigint;
  lastIndex(): bigint;
  /** Index of the first entry still available (the snapshot index + 1). */
  firstIndex(): bigint;
  /** The most recent snapshot; may throw SnapshotTemporarilyUnavailableError. */
  snapshot(): Snapshot;
}

/**
 * Storage kept in memory: used by the tests and usable by a driver as the
 * in-memory mirror of its durable log.
 */
export class MemoryStorage implements Storage {
  private hardState: HardState = emptyHardState();
  private snap: Snapshot = {
    data: EMPTY_BYTES,
    metadata: { index: 0n, term: 0n, confState: emptyConfState() },
  };
  // ents[0] is a placeholder holding the snapshot's index and term.
  private ents: Entry[] = [{ term: 0n, index: 0n, type: EntryType.Normal, data: EMPTY_BYTES }];

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: { ...this.hardState }, confState: cloneConfState(this.snap.metadata.confState) };
  }

  setHardState(hs: HardState): void {
    this.hardState = { ...hs };
  }

  hardStateSnapshot(): HardState {
    return { ...this.hardState };
  }

  entries(lo: bigint, hi: bigint, maxSize: number): Entry[] {
    const offset = this.ents[0].index;
    if (lo <= offset) throw new CompactedError();
    if (hi > this.lastIndex() + 1n) {
      throw new UnavailableError();
    }
    if (this.ents.length === 1) throw new UnavailableError();
    const start = Number(lo - offset);
    const end = Number(hi - offset);
    if (start >= end) return [];
    // Find the size-limited end before slicing, so large ranges are not copied.
    let size = entrySize(this.ents[start]);
    let stop = start + 1;
    while (stop < end) {
      size += entrySize(this.ents[stop]);
      if (size > maxSize) break;
      stop++;
    }
    return this.ents.slice(start, stop);
  }

  term(i: bigint): bigint {
    const offset = this.ents[0].index;
    if (i < offset) throw new CompactedError();
    const k = i - offset;
    if (k >= BigInt(this.ents.length)) throw new UnavailableError();
    return this.ents[Number(k)].term;
  }

  lastIndex(): bigint {
    return this.ents[0].index + BigInt(this.ents.length - 1);
  }

  firstIndex(): bigint {
    return this.ents[0].index + 1n;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replaces the whole log with a snapshot received from the leader. */
  applySnapshot(snap: Snapshot): void {
    if (this.snap.metadata.index >= snap.metadata.index) throw new SnapshotOutOfDateError();
    this.snap = cloneSnapshot(snap);
    this.ents = [
      { term: snap.metadata.term, index: snap.metadata.index, type: EntryType.Normal, data: EMPTY_BYTES },
    ];
  }

  /**
   * Records a snapshot of the state machine at applied index i. Does not
   * compact; call compact() afterwards to drop the entries it covers.
   */
  createSnapshot(i: bigint, confState: ConfState | undefined, data: Uint8Array): Snapshot {
    if (i <= this.snap.metadata.index) throw new SnapshotOutOfDateError();
    if (i > this.lastIndex()) throw new Error(`snapshot ${i} is out of bound lastindex(${this.lastIndex()})`);
    const offset = this.ents[0].index;
    this.snap = {
      data,
      metadata: {
        index: i,
        term: this.ents[Number(i - offset)].term,
        confState: confState ? cloneConfState(confState) : this.snap.metadata.confState,
      },
    };
    return this.snap;
  }

  /**
   * Records a snapshot's metadata and nothing else, for a mirror of a longer log whose entries
   * may already start past it (createSnapshot needs the entry at the index).
   */
  recordSnapshot(metadata: SnapshotMetadata): void {
    if (metadata.index <= this.snap.metadata.index) throw new SnapshotOutOfDateError();
    this.snap = {
      data: EMPTY_BYTES,
      metadata: { ...metadata, confState: cloneConfState(metadata.confState) },
    };
  }

  /** Discards every entry up to and including compactIndex. */
  compact(compactIndex: bigint): void {
    const offset = this.ents[0].index;
    if (compactIndex <= offset) throw new CompactedError();
    if (compactIndex > this.lastIndex()) {
      throw new Error(`compact ${compactIndex} is out of bound lastindex(${this.lastIndex()})`);
    }
    const k = Number(compactIndex - offset);
    const head: Entry = {
      term: this.ents[k].term,
      index: this.ents[k].index,
      type: EntryType.Normal,
      data: EMPTY_BYTES,
    };
    const rest = this.ents.slice(k + 1);
    rest.unshift(head);
    this.ents = rest;
  }

  /**
   * Appends entries that follow (or overwrite a suffix of) the log. Entries
   * already compacted are skipped; a gap is a caller bug.
   */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0].index + BigInt(entries.length) - 1n;
    if (last < first) return;
    let from = 0;
    if (first > entries[0].index) from = Number(first - entries[0].index);
    const startIndex = entries[from].index;
    const pos = Number(startIndex - this.ents[0].index);
    if (pos > this.ents.length) {
      throw new Error(`missing log entry [last: ${this.lastIndex()}, append at: ${startIndex}]`);
    }
    // Truncate any conflicting suffix in place, then extend.
    if (pos < this.ents.length) this.ents.length = pos;
    for (let i = from; i < entries.length; i++) this.ents.push(entries[i]);
  }
}

export function cloneConfState(cs: ConfState): ConfState {
  return {
    voters: [...cs.voters],
    learners: [...cs.learners],
    votersOutgoing: [...cs.votersOutgoing],
    learnersNext: [...cs.learnersNext],
    autoLeave: cs.autoLeave,
  };
}

export function cloneSnapshot(s: Snapshot): Snapshot {
  return {
    data: s.data,
    metadata: {
      index: s.metadata.index,
      term: s.metadata.term,
      confState: cloneConfState(s.metadata.confState),
    },
  };
}
