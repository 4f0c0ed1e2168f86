import { CompactedError, SnapshotOutOfDateError, UnavailableError } from './errors';
import { MemoryStorage } from './storage';
import { EMPTY_BYTES, emptyConfState } from './types';
import { entry } from './testing/helpers';

/** Storage with a snapshot at 3 (term 3) and entries 4 (term 4), 5 (term 5). */
function sample(): MemoryStorage {
  const s = new MemoryStorage();
  s.applySnapshot({ data: EMPTY_BYTES, metadata: { index: 3n, term: 3n, confState: emptyConfState() } });
  s.append([entry(4, 4), entry(5, 5)]);
  return s;
}

describe('MemoryStorage', () => {
  it('starts empty with index 0', () => {
    const s = new MemoryStorage();
    expect(s.firstIndex()).toBe(1n);
    expect(s.lastIndex()).toBe(0n);
    expect(s.term(0n)).toBe(0n);
    expect(() => s.term(1n)).toThrow(UnavailableError);
  });

  it('answers term() for the snapshot index and its entries, and errors outside', () => {
    const s = sample();
    expect(() => s.term(2n)).toThrow(CompactedError);
    expect(s.term(3n)).toBe(3n);
    expect(s.term(4n)).toBe(4n);
    expect(s.term(5n)).toBe(5n);
    expect(() => s.term(6n)).toThrow(UnavailableError);
    expect(s.firstIndex()).toBe(4n);
    expect(s.lastIndex()).toBe(5n);
  });

  it('returns entries in [lo, hi), size-limited but at least one', () => {
    const s = sample();
    s.append([entry(6, 6, 'x'.repeat(10))]);
    expect(() => s.entries(3n, 5n, 1e9)).toThrow(CompactedError);
    expect(s.entries(4n, 5n, 1e9).map((e) => e.index)).toEqual([4n]);
    expect(s.entries(4n, 7n, 1e9).map((e) => e.index)).toEqual([4n, 5n, 6n]);
    expect(s.entries(4n, 7n, 0).map((e) => e.index)).toEqual([4n]);
    // Each empty entry counts 24 bytes.
    expect(s.entries(4n, 7n, 48).map((e) => e.index)).toEqual([4n, 5n]);
    expect(s.entries(4n, 7n, 47).map((e) => e.index)).toEqual([4n]);
    expect(() => s.entries(4n, 8n, 1e9)).toThrow(UnavailableError);
  });

  it('appends, truncating conflicts and skipping compacted entries', () => {
    const s = sample();
    s.append([entry(5, 6), entry(6, 6)]);
    expect([s.term(5n), s.term(6n), s.lastIndex()]).toEqual([6n, 6n, 6n]);
    // Entries below the first index are ignored.
    s.append([entry(2, 3), entry(3, 3), entry(4, 4), entry(5, 7)]);
    expect([s.term(4n), s.term(5n), s.lastIndex()]).toEqual([4n, 7n, 5n]);
    // Entirely compacted batch: no-op.
    s.append([entry(1, 1), entry(2, 2)]);
    expect(s.lastIndex()).toBe(5n);
    expect(() => s.append([entry(8, 8)])).toThrow(/missing log entry/);
  });

  it('compacts up to an index, keeping its term for matching', () => {
    const s = sample();
    s.append([entry(6, 6)]);
    s.compact(5n);
    expect(s.firstIndex()).toBe(6n);
    expect(s.term(5n)).toBe(5n);
    expect(() => s.term(4n)).toThrow(CompactedError);
    expect(() => s.compact(5n)).toThrow(CompactedError);
    expect(() => s.compact(9n)).toThrow(/out of bound/);
  });

  it('creates snapshots at applied indexes and refuses older ones', () => {
    const s = sample();
    const cs = { ...emptyConfState(), voters: [1n, 2n] };
    const snap = s.createSnapshot(5n, cs, Buffer.from('state'));
    expect(snap.metadata).toEqual({ index: 5n, term: 5n, confState: cs });
    expect(s.snapshot().metadata.index).toBe(5n);
    expect(() => s.createSnapshot(4n, cs, EMPTY_BYTES)).toThrow(SnapshotOutOfDateError);
    expect(() => s.createSnapshot(9n, cs, EMPTY_BYTES)).toThrow(/out of bound/);
  });

  it('replaces its log with an applied snapshot', () => {
    const s = sample();
    s.applySnapshot({ data: EMPTY_BYTES, metadata: { index: 10n, term: 7n, confState: emptyConfState() } });
    expect(s.firstIndex()).toBe(11n);
    expect(s.lastIndex()).toBe(10n);
    expect(s.term(10n)).toBe(7n);
    expect(() =>
      s.applySnapshot({ data: EMPTY_BYTES, metadata: { index: 9n, term: 7n, confState: emptyConfState() } }),
    ).toThrow(SnapshotOutOfDateError);
  });

  it('keeps copies of the hard state', () => {
    const s = new MemoryStorage();
    const hs = { term: 3n, vote: 2n, commit: 0n };
    s.setHardState(hs);
    hs.term = 9n;
    expect(s.initialState().hardState).toEqual({ term: 3n, vote: 2n, commit: 0n });
  });
});
