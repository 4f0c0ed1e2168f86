import { Entry, Snapshot, entrySize } from './types';

/**
 * Entries (and possibly a snapshot) that the node has accepted but the driver
 * has not yet reported as persisted. entries[i] has index offset + i.
 */
export class Unstable {
  snapshot: Snapshot | undefined = undefined;
  entries: Entry[] = [];
  offset: bigint;

  constructor(offset: bigint) {
    this.offset = offset;
  }

  /** First index, if an unstable snapshot determines it. */
  maybeFirstIndex(): bigint | undefined {
    return this.snapshot ? this.snapshot.metadata.index + 1n : undefined;
  }

  /** Last index, if unstable entries or an unstable snapshot determine it. */
  maybeLastIndex(): bigint | undefined {
    if (this.entries.length > 0) return this.offset + BigInt(this.entries.length - 1);
    if (this.snapshot) return this.snapshot.metadata.index;
    return undefined;
  }

  maybeTerm(i: bigint): bigint | undefined {
    if (i < this.offset) {
      if (this.snapshot && this.snapshot.metadata.index === i) return this.snapshot.metadata.term;
      return undefined;
    }
    const k = i - this.offset;
    if (k >= BigInt(this.entries.length)) return undefined;
    return this.entries[Number(k)].term;
  }

  /** Entries up to (i, t) are durable: drop them, unless the log changed since. */
  stableTo(i: bigint, t: bigint): void {
    const gt = this.maybeTerm(i);
    if (gt === undefined || gt !== t || i < this.offset) return;
    const n = Number(i - this.offset) + 1;
    this.entries = n === this.entries.length ? [] : this.entries.slice(n);
    this.offset = i + 1n;
  }

  stableSnapTo(i: bigint): void {
    if (this.snapshot && this.snapshot.metadata.index === i) this.snapshot = undefined;
  }

  restore(s: Snapshot): void {
    this.offset = s.metadata.index + 1n;
    this.entries = [];
    this.snapshot = s;
  }

  truncateAndAppend(ents: readonly Entry[]): void {
    if (ents.length === 0) return;
    const from = ents[0].index;
    const end = this.offset + BigInt(this.entries.length);
    if (from === end) {
      // Plain append.
      for (let i = 0; i < ents.length; i++) this.entries.push(ents[i]);
    } else if (from <= this.offset) {
      // Replaces everything unstable; storage-side conflicts are overwritten when persisted.
      this.offset = from;
      this.entries = ents.slice();
    } else {
      // Keep the prefix before `from`, drop the conflicting rest.
      this.entries.length = Number(from - this.offset);
      for (let i = 0; i < ents.length; i++) this.entries.push(ents[i]);
    }
  }

  /** Entries in [lo, hi), stopping before the total size exceeds maxSize (at least one). */
  slice(lo: bigint, hi: bigint, maxSize: number): Entry[] {
    const upper = this.offset + BigInt(this.entries.length);
    if (lo > hi || lo < this.offset || hi > upper) {
      throw new Error(`unstable.slice[${lo},${hi}) out of bound [${this.offset},${upper}]`);
    }
    const start = Number(lo - this.offset);
    const end = Number(hi - this.offset);
    if (start === end) return [];
    let size = entrySize(this.entries[start]);
    let stop = start + 1;
    while (stop < end) {
      size += entrySize(this.entries[stop]);
      if (size > maxSize) break;
      stop++;
    }
    return this.entries.slice(start, stop);
  }
}
