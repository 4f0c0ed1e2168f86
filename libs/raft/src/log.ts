import { CompactedError, UnavailableError } from './errors';
import { RaftLogger } from './logger';
import { Storage } from './storage';
import { Unstable } from './unstable';
import { Entry, Snapshot, entriesSize, minBig } from './types';

/**
 * The node's view of the log: durable entries in Storage followed by the
 * unstable tail not yet persisted, plus the commit and apply cursors.
 */
export class RaftLog {
  readonly unstable: Unstable;
  /** Highest index known to be stored on a quorum. */
  committed: bigint;
  /** Highest index handed to the application for applying. */
  applied: bigint;

  constructor(
    readonly storage: Storage,
    private readonly logger: RaftLogger,
    /** Upper bound on the size of committed entries handed out in one Ready. */
    readonly maxApplyingEntsSize: number,
  ) {
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new Unstable(last + 1n);
    // The storage's first index - 1 is its snapshot: committed and applied by definition.
    this.committed = first - 1n;
    this.applied = first - 1n;
  }

  toString(): string {
    return `committed=${this.committed}, applied=${this.applied}, unstable.offset=${this.unstable.offset}, unstable.len=${this.unstable.entries.length}`;
  }

  firstIndex(): bigint {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): bigint {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  lastTerm(): bigint {
    return this.term(this.lastIndex());
  }

  /**
   * Term of entry i, valid for [firstIndex-1, lastIndex] (the entry just
   * before the first is compacted but its term is kept for matching).
   */
  term(i: bigint): bigint {
    const t = this.unstable.maybeTerm(i);
    if (t !== undefined) return t;
    if (i < this.firstIndex() - 1n) throw new CompactedError();
    if (i > this.lastIndex()) throw new UnavailableError();
    return this.storage.term(i);
  }

  /** Like term(), but 0 for any index outside the valid range. */
  termOrZero(i: bigint): bigint {
    const t = this.unstable.maybeTerm(i);
    if (t !== undefined) return t;
    if (i < this.firstIndex() - 1n || i > this.lastIndex()) return 0n;
    try {
      return this.storage.term(i);
    } catch (e) {
      if (e instanceof CompactedError || e instanceof UnavailableError) return 0n;
      throw e;
    }
  }

  matchTerm(i: bigint, t: bigint): boolean {
    if (i < this.firstIndex() - 1n || i > this.lastIndex()) return false;
    return this.termOrZero(i) === t;
  }

  /**
   * Appends entries sent by a leader after (index, logTerm) if the log matches
   * there, truncating any conflicting suffix. Returns the last index of the new
   * entries, or undefined if the log does not match.
   */
  maybeAppend(index: bigint, logTerm: bigint, committed: bigint, ents: Entry[]): bigint | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNew = index + BigInt(ents.length);
    const ci = this.findConflict(ents);
    if (ci !== 0n) {
      if (ci <= this.committed) {
        throw new Error(`entry ${ci} conflicts with committed entry [committed(${this.committed})]`);
      }
      this.append(ents.slice(Number(ci - (index + 1n))));
    }
    this.commitTo(minBig(committed, lastNew));
    return lastNew;
  }

  append(ents: Entry[]): bigint {
    if (ents.length === 0) return this.lastIndex();
    const after = ents[0].index - 1n;
    if (after < this.committed) {
      throw new Error(`after(${after}) is out of range [committed(${this.committed})]`);
    }
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /**
   * Index of the first entry that is new or disagrees with the log (0 if all
   * are already present).
   */
  findConflict(ents: Entry[]): bigint {
    for (let i = 0; i < ents.length; i++) {
      const e = ents[i];
      if (!this.matchTerm(e.index, e.term)) {
        if (e.index <= this.lastIndex()) {
          this.logger.debug(
            `found conflict at index ${e.index} [existing term: ${this.termOrZero(e.index)}, conflicting term: ${e.term}]`,
          );
        }
        return e.index;
      }
    }
    return 0n;
  }

  /**
   * The largest index <= index whose term is <= term, with that term. Used by
   * the fast back-off: a follower proposes where the leader should retry, and
   * the leader refines the hint against its own log.
   */
  findConflictByTerm(index: bigint, term: bigint): [bigint, bigint] {
    for (let i = index; ; i--) {
      let t: bigint;
      try {
        t = this.term(i);
      } catch (e) {
        if (e instanceof CompactedError || e instanceof UnavailableError) return [i, 0n];
        throw e;
      }
      if (t <= term) return [i, t];
      if (i === 0n) return [0n, 0n];
    }
  }

  unstableEntries(): Entry[] {
    return this.unstable.entries.length === 0 ? [] : this.unstable.entries.slice();
  }

  /**
   * Committed entries not yet applied, up to the size budget. allowUnstable:
   * entries not yet persisted may be returned (the driver persists a Ready
   * before applying it).
   */
  nextCommittedEnts(allowUnstable: boolean): Entry[] {
    if (this.hasNextOrInProgressSnapshot()) return [];
    const lo = this.applied + 1n;
    const hi = this.maxAppliableIndex(allowUnstable) + 1n;
    if (lo >= hi) return [];
    return this.slice(lo, hi, this.maxApplyingEntsSize);
  }

  hasNextCommittedEnts(allowUnstable: boolean): boolean {
    if (this.hasNextOrInProgressSnapshot()) return false;
    return this.applied + 1n < this.maxAppliableIndex(allowUnstable) + 1n;
  }

  private maxAppliableIndex(allowUnstable: boolean): bigint {
    let hi = this.committed;
    if (!allowUnstable) hi = minBig(hi, this.unstable.offset - 1n);
    return hi;
  }

  hasNextOrInProgressSnapshot(): boolean {
    return this.unstable.snapshot !== undefined;
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  commitTo(toCommit: bigint): void {
    if (this.committed < toCommit) {
      if (this.lastIndex() < toCommit) {
        throw new Error(`tocommit(${toCommit}) is out of range [lastIndex(${this.lastIndex()})]`);
      }
      this.committed = toCommit;
    }
  }

  appliedTo(i: bigint): void {
    if (i === 0n) return;
    if (this.committed < i || i < this.applied) {
      throw new Error(
        `applied(${i}) is out of range [prevApplied(${this.applied}), committed(${this.committed})]`,
      );
    }
    this.applied = i;
  }

  stableTo(i: bigint, t: bigint): void {
    this.unstable.stableTo(i, t);
  }

  stableSnapTo(i: bigint): void {
    this.unstable.stableSnapTo(i);
  }

  /** Raft's election restriction: is (lastIndex, term) at least as up to date as this log? */
  isUpToDate(lastIndex: bigint, term: bigint): boolean {
    const lastTerm = this.lastTerm();
    return term > lastTerm || (term === lastTerm && lastIndex >= this.lastIndex());
  }

  /** Commits maxIndex if it belongs to `term` (Raft commits only entries of the current term directly). */
  maybeCommit(maxIndex: bigint, term: bigint): boolean {
    if (maxIndex > this.committed && this.termOrZero(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  restore(s: Snapshot): void {
    this.logger.info(
      `log [${this.toString()}] starts to restore snapshot [index: ${s.metadata.index}, term: ${s.metadata.term}]`,
    );
    this.committed = s.metadata.index;
    this.unstable.restore(s);
  }

  /** Entries from i to the end, size-limited. */
  entries(i: bigint, maxSize: number): Entry[] {
    if (i > this.lastIndex()) return [];
    return this.slice(i, this.lastIndex() + 1n, maxSize);
  }

  /** Entries in [lo, hi), stopping before the total size exceeds maxSize (at least one). */
  slice(lo: bigint, hi: bigint, maxSize: number): Entry[] {
    this.checkOutOfBounds(lo, hi);
    if (lo === hi) return [];
    const uOffset = this.unstable.offset;
    if (lo >= uOffset) return this.unstable.slice(lo, hi, maxSize);
    const cut = minBig(hi, uOffset);
    const stored = this.storage.entries(lo, cut, maxSize);
    if (hi <= uOffset) return stored;
    // Storage stopped early because of the size limit: do not add unstable entries.
    if (BigInt(stored.length) < cut - lo) return stored;
    const size = entriesSize(stored);
    if (size >= maxSize) return stored;
    const rest = this.unstable.slice(uOffset, hi, maxSize - size);
    // The unstable slice always returns one entry; honour the limit here.
    if (rest.length === 1 && size + entriesSize(rest) > maxSize) return stored;
    return stored.concat(rest);
  }

  private checkOutOfBounds(lo: bigint, hi: bigint): void {
    if (lo > hi) throw new Error(`invalid slice ${lo} > ${hi}`);
    const fi = this.firstIndex();
    if (lo < fi) throw new CompactedError();
    const li = this.lastIndex();
    if (hi > li + 1n) throw new Error(`slice[${lo},${hi}) out of bound [${fi},${li}]`);
  }

  /** Every entry still available (tests and debugging). */
  allEntries(): Entry[] {
    const fi = this.firstIndex();
    const li = this.lastIndex();
    if (fi > li) return [];
    return this.slice(fi, li + 1n, Number.MAX_SAFE_INTEGER);
  }
}
