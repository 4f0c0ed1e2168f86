import { CompactedError } from './errors';
import { RaftLog } from './log';
import { silentLogger } from './logger';
import { MemoryStorage } from './storage';
import { Unstable } from './unstable';
import { EMPTY_BYTES, emptyConfState } from './types';
import { entriesWithTerms, entry } from './testing/helpers';

function logWith(terms: number[]): RaftLog {
  const s = new MemoryStorage();
  s.append(entriesWithTerms(terms));
  return new RaftLog(s, silentLogger, Number.MAX_SAFE_INTEGER);
}

describe('Unstable', () => {
  it('appends, truncates and replaces', () => {
    const u = new Unstable(5n);
    u.truncateAndAppend([entry(5, 1), entry(6, 1), entry(7, 1)]);
    expect(u.maybeLastIndex()).toBe(7n);
    u.truncateAndAppend([entry(6, 2)]);
    expect(u.entries.map((e) => [e.index, e.term])).toEqual([
      [5n, 1n],
      [6n, 2n],
    ]);
    u.truncateAndAppend([entry(4, 3)]);
    expect(u.offset).toBe(4n);
    expect(u.entries.map((e) => e.index)).toEqual([4n]);
  });

  it('drops persisted entries only when the term still matches', () => {
    const u = new Unstable(5n);
    u.truncateAndAppend([entry(5, 1), entry(6, 1), entry(7, 1)]);
    u.stableTo(6n, 2n); // stale: entry 6 has term 1
    expect(u.offset).toBe(5n);
    u.stableTo(6n, 1n);
    expect(u.offset).toBe(7n);
    expect(u.entries.map((e) => e.index)).toEqual([7n]);
    u.stableTo(7n, 1n);
    expect(u.entries).toEqual([]);
    expect(u.maybeLastIndex()).toBeUndefined();
  });

  it('reports the snapshot as first/last index and term', () => {
    const u = new Unstable(0n);
    u.restore({ data: EMPTY_BYTES, metadata: { index: 10n, term: 4n, confState: emptyConfState() } });
    expect(u.maybeFirstIndex()).toBe(11n);
    expect(u.maybeLastIndex()).toBe(10n);
    expect(u.maybeTerm(10n)).toBe(4n);
    expect(u.maybeTerm(9n)).toBeUndefined();
    u.stableSnapTo(10n);
    expect(u.snapshot).toBeUndefined();
  });
});

describe('RaftLog', () => {
  it('finds conflicts', () => {
    const log = logWith([1, 2, 3]);
    expect(log.findConflict([])).toBe(0n);
    expect(log.findConflict(entriesWithTerms([1, 2, 3]))).toBe(0n);
    expect(log.findConflict([entry(2, 2), entry(3, 3), entry(4, 4)])).toBe(4n);
    expect(log.findConflict([entry(2, 1), entry(3, 4)])).toBe(2n);
    expect(log.findConflict([entry(3, 4), entry(4, 4)])).toBe(3n);
  });

  it('finds the last index with a term at most the given one (fast back-off)', () => {
    // index: 1 2 3 4 5 6 7
    // term:  1 1 1 4 4 5 5
    const log = logWith([1, 1, 1, 4, 4, 5, 5]);
    expect(log.findConflictByTerm(7n, 6n)).toEqual([7n, 5n]);
    expect(log.findConflictByTerm(7n, 4n)).toEqual([5n, 4n]);
    expect(log.findConflictByTerm(7n, 3n)).toEqual([3n, 1n]);
    expect(log.findConflictByTerm(7n, 0n)).toEqual([0n, 0n]);
    expect(log.findConflictByTerm(2n, 4n)).toEqual([2n, 1n]);
  });

  it('maybeAppend matches, appends, truncates and commits', () => {
    const log = logWith([1, 2, 3]);
    log.commitTo(1n);
    // Mismatch at (3, 2).
    expect(log.maybeAppend(3n, 2n, 3n, [entry(4, 4)])).toBeUndefined();
    expect(log.lastIndex()).toBe(3n);
    // Conflict beyond the commit index: truncate after 2.
    expect(log.maybeAppend(2n, 2n, 1n, [entry(3, 5)])).toBe(3n);
    expect(log.lastIndex()).toBe(3n);
    expect(log.term(3n)).toBe(5n);
    // Match, append, commit only up to the last new entry.
    expect(log.maybeAppend(3n, 5n, 10n, [entry(4, 4)])).toBe(4n);
    expect(log.committed).toBe(4n);
    // Entries already present: nothing is truncated.
    expect(log.maybeAppend(1n, 1n, 2n, [entry(2, 2)])).toBe(2n);
    expect(log.lastIndex()).toBe(4n);
    expect(log.committed).toBe(4n);
  });

  it('refuses to overwrite committed entries', () => {
    const log = logWith([1, 2, 3]);
    log.commitTo(3n);
    expect(() => log.maybeAppend(1n, 1n, 3n, [entry(2, 9)])).toThrow(/conflicts with committed/);
  });

  it('commits only entries of the given term', () => {
    const log = logWith([1, 2, 2]);
    expect(log.maybeCommit(3n, 1n)).toBe(false);
    expect(log.maybeCommit(3n, 2n)).toBe(true);
    expect(log.committed).toBe(3n);
    expect(log.maybeCommit(2n, 2n)).toBe(false);
    expect(() => log.commitTo(9n)).toThrow(/out of range/);
  });

  it('implements the election up-to-date rule', () => {
    const log = logWith([1, 2, 3]);
    expect(log.isUpToDate(3n, 3n)).toBe(true);
    expect(log.isUpToDate(2n, 3n)).toBe(false);
    expect(log.isUpToDate(1n, 4n)).toBe(true);
    expect(log.isUpToDate(9n, 2n)).toBe(false);
  });

  it('slices across storage and unstable entries with size limits', () => {
    const s = new MemoryStorage();
    s.append(entriesWithTerms([1, 1, 1]));
    const log = new RaftLog(s, silentLogger, Number.MAX_SAFE_INTEGER);
    log.append([entry(4, 2), entry(5, 2)]);
    expect(log.slice(2n, 6n, 1e9).map((e) => e.index)).toEqual([2n, 3n, 4n, 5n]);
    expect(log.slice(2n, 6n, 24 * 3).map((e) => e.index)).toEqual([2n, 3n, 4n]);
    expect(log.slice(4n, 6n, 0).map((e) => e.index)).toEqual([4n]);
    expect(log.slice(3n, 6n, 24).map((e) => e.index)).toEqual([3n]);
    expect(log.entries(6n, 1e9)).toEqual([]);
    expect(() => log.slice(2n, 9n, 1e9)).toThrow(/out of bound/);
    s.compact(2n);
    expect(() => log.slice(2n, 4n, 1e9)).toThrow(CompactedError);
  });

  it('hands out committed entries once, within the size budget', () => {
    const s = new MemoryStorage();
    s.append(entriesWithTerms([1, 1, 1, 1]));
    const log = new RaftLog(s, silentLogger, 24 * 2);
    log.commitTo(3n);
    expect(log.nextCommittedEnts(true).map((e) => e.index)).toEqual([1n, 2n]);
    log.appliedTo(2n);
    expect(log.nextCommittedEnts(true).map((e) => e.index)).toEqual([3n]);
    log.appliedTo(3n);
    expect(log.hasNextCommittedEnts(true)).toBe(false);
    expect(() => log.appliedTo(4n)).toThrow(/out of range/);
  });

  it('does not apply unstable entries unless allowed', () => {
    const log = logWith([1]);
    log.append([entry(2, 1)]);
    log.commitTo(2n);
    expect(log.nextCommittedEnts(false).map((e) => e.index)).toEqual([1n]);
    expect(log.nextCommittedEnts(true).map((e) => e.index)).toEqual([1n, 2n]);
  });

  it('restores from a snapshot', () => {
    const log = logWith([1, 2]);
    log.restore({ data: EMPTY_BYTES, metadata: { index: 100n, term: 9n, confState: emptyConfState() } });
    expect(log.committed).toBe(100n);
    expect(log.firstIndex()).toBe(101n);
    expect(log.lastIndex()).toBe(100n);
    expect(log.term(100n)).toBe(9n);
    expect(log.hasNextOrInProgressSnapshot()).toBe(true);
    expect(log.nextCommittedEnts(true)).toEqual([]);
  });

  it('starts from the storage snapshot', () => {
    const s = new MemoryStorage();
    s.applySnapshot({ data: EMPTY_BYTES, metadata: { index: 10n, term: 2n, confState: emptyConfState() } });
    const log = new RaftLog(s, silentLogger, 100);
    expect([log.committed, log.applied, log.firstIndex(), log.lastIndex(), log.lastTerm()]).toEqual([
      10n,
      10n,
      11n,
      10n,
      2n,
    ]);
    expect(log.termOrZero(5n)).toBe(0n);
    expect(() => log.term(5n)).toThrow(CompactedError);
  });

  it('appends large batches in linear time', () => {
    const log = logWith([]);
    const n = 100_000;
    const start = Date.now();
    for (let i = 1; i <= n; i += 100) {
      log.append(entriesWithTerms(Array(100).fill(1), i));
    }
    expect(log.lastIndex()).toBe(BigInt(n));
    log.stableTo(BigInt(n), 1n);
    expect(Date.now() - start).toBeLessThan(2000);
  });
});
