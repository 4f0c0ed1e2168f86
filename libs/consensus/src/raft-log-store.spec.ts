import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompactedError, EMPTY_BYTES, Entry, EntryType, emptyConfState, entrySize } from '../../raft/src';
import { Engine } from '../../storage/src';
import { MIRRORED_APPLIED_ENTRIES, RaftLogStore, entryKey } from './raft-log-store';

const ent = (index: number, term: number, text = `e${index}.${term}`): Entry => ({
  index: BigInt(index),
  term: BigInt(term),
  type: EntryType.Normal,
  data: Buffer.from(text),
});

const range = (from: number, to: number, term: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => ent(from + i, term));

describe('RaftLogStore', () => {
  let dir: string;
  let engine: Engine;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cairn-raftlog-'));
    engine = await Engine.open(dir);
  });
  afterEach(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function reopen(): Promise<RaftLogStore> {
    await engine.close();
    engine = await Engine.open(dir);
    return RaftLogStore.open(engine);
  }

  const all = (s: RaftLogStore) =>
    s.entries(s.firstIndex(), s.lastIndex() + 1n, Infinity).map((e) => `${e.index}.${e.term}`);

  it('starts empty, bootstraps at index 1 term 1 and survives a restart', async () => {
    const s = await RaftLogStore.open(engine);
    expect(s.isEmpty()).toBe(true);
    await s.bootstrap([7n]);
    expect(s.isEmpty()).toBe(false);
    await expect(s.bootstrap([7n])).rejects.toThrow(/not empty/);
    const r = await reopen();
    expect(r.isEmpty()).toBe(false);
    expect(r.initialState().hardState).toEqual({ term: 1n, vote: 0n, commit: 1n });
    expect(r.initialState().confState.voters).toEqual([7n]);
    expect(r.firstIndex()).toBe(2n);
    expect(r.lastIndex()).toBe(1n);
    expect(r.term(1n)).toBe(1n);
  });

  it('round-trips entries and hard state through a restart', async () => {
    const s = await RaftLogStore.open(engine);
    await s.bootstrap([1n]);
    s.persist({ entries: range(2, 50, 2), hardState: { term: 2n, vote: 1n, commit: 40n } });
    await engine.sync();
    const r = await reopen();
    expect(r.lastIndex()).toBe(50n);
    expect(r.hardState()).toEqual({ term: 2n, vote: 1n, commit: 40n });
    expect(r.entries(2n, 51n, Infinity)).toEqual(
      range(2, 50, 2).map((e) => ({ ...e, data: Buffer.from(e.data) })),
    );
  });

  it('truncates a conflicting suffix, in memory and on disk', async () => {
    const s = await RaftLogStore.open(engine);
    await s.bootstrap([1n]);
    s.append(range(2, 10, 2));
    s.append(range(6, 7, 3)); // overwrites 6.. and drops 8..10
    expect(all(s)).toEqual(['2.2', '3.2', '4.2', '5.2', '6.3', '7.3']);
    const r = await reopen();
    expect(all(r)).toEqual(['2.2', '3.2', '4.2', '5.2', '6.3', '7.3']);
    expect(engine.get(entryKey(8n))).toBeUndefined();
    expect(engine.get(entryKey(10n))).toBeUndefined();
  });

  it('compacts: drops entries up to the index and remembers where the log starts', async () => {
    const s = await RaftLogStore.open(engine);
    await s.bootstrap([1n]);
    s.append(range(2, 30, 2));
    s.compact(20n);
    expect(s.firstIndex()).toBe(21n);
    expect(s.term(20n)).toBe(2n);
    expect(() => s.entries(10n, 12n, Infinity)).toThrow(CompactedError);
    expect(engine.get(entryKey(20n))).toBeUndefined();
    expect(engine.get(entryKey(21n))).toBeDefined();
    const r = await reopen();
    expect(r.firstIndex()).toBe(21n);
    expect(r.lastIndex()).toBe(30n);
    expect(r.snapshot().metadata).toEqual({
      index: 20n,
      term: 2n,
      confState: { ...emptyConfState(), voters: [1n] },
    });
    expect(all(r)[0]).toBe('21.2');
  });

  it('installs a snapshot: replaces the whole log', async () => {
    const s = await RaftLogStore.open(engine);
    await s.bootstrap([1n]);
    s.append(range(2, 30, 2));
    const confState = { ...emptyConfState(), voters: [1n, 2n] };
    s.persist({
      snapshot: { data: EMPTY_BYTES, metadata: { index: 25n, term: 3n, confState } },
      entries: [ent(26, 3)],
    });
    expect(all(s)).toEqual(['26.3']);
    const r = await reopen();
    expect(r.firstIndex()).toBe(26n);
    expect(all(r)).toEqual(['26.3']);
    expect(r.initialState().confState.voters).toEqual([1n, 2n]);
    expect(r.hardState().commit).toBe(25n);
    expect(engine.get(entryKey(27n))).toBeUndefined();
  });
  describe('with the mirror trimmed behind the applied index', () => {
    const M = MIRRORED_APPLIED_ENTRIES;
    const N = 3 * M + 100;

    async function trimmedLog(): Promise<RaftLogStore> {
      const s = await RaftLogStore.open(engine);
      await s.bootstrap([1n]);
      // Terms change along the log, so a term read from the wrong place shows.
      s.persist({ entries: [...range(2, M, 2), ...range(M + 1, N, 3)] });
      s.trimMirror(BigInt(N - 10));
      return s;
    }

    it('still serves every entry and term, older ones from disk, within the size limit', async () => {
      const s = await trimmedLog();
      expect(s.firstIndex()).toBe(2n);
      expect(s.lastIndex()).toBe(BigInt(N));
      expect(all(s)).toEqual([...range(2, M, 2), ...range(M + 1, N, 3)].map((e) => `${e.index}.${e.term}`));
      expect(s.term(1n)).toBe(1n);
      expect(s.term(5n)).toBe(2n);
      expect(s.term(BigInt(M + 1))).toBe(3n);
      // A range across the mirror's start (N - 9 - M), and size limits on disk and across it.
      const across = s.entries(BigInt(N - M - 50), BigInt(N), Infinity);
      expect(across.map((e) => Number(e.index))).toEqual(
        range(N - M - 50, N - 1, 0).map((e) => Number(e.index)),
      );
      const sizeOf = (from: number, n: number) =>
        s.entries(BigInt(from), BigInt(from + n), Infinity).reduce((sum, e) => sum + entrySize(e), 0);
      expect(s.entries(2n, 3n, 0).map((e) => e.index)).toEqual([2n]);
      expect(s.entries(2n, BigInt(N), 0).map((e) => e.index)).toEqual([2n]);
      expect(s.entries(2n, BigInt(N), sizeOf(2, 3)).map((e) => e.index)).toEqual([2n, 3n, 4n]);
      const start = N - 9 - M - 2;
      expect(s.entries(BigInt(start), BigInt(N), sizeOf(start, 4)).map((e) => Number(e.index))).toEqual([
        start,
        start + 1,
        start + 2,
        start + 3,
      ]);
      expect(() => s.entries(1n, 5n, Infinity)).toThrow(CompactedError);
      expect(() => s.term(BigInt(N + 1))).toThrow();
    });

    it('truncates below the mirror, and reopens with the same log', async () => {
      const s = await trimmedLog();
      s.compact(100n, { ...emptyConfState(), voters: [1n] });
      expect(s.firstIndex()).toBe(101n);
      expect(s.snapshot().metadata).toMatchObject({ index: 100n, term: 2n });
      expect(s.term(100n)).toBe(2n);
      expect(() => s.entries(100n, 101n, Infinity)).toThrow(CompactedError);
      expect(s.entries(101n, 102n, Infinity)[0]).toMatchObject({ index: 101n, term: 2n });
      s.compact(BigInt(N - 5));
      expect(s.firstIndex()).toBe(BigInt(N - 4));
      expect(s.term(BigInt(N - 5))).toBe(3n);
      await engine.sync();
      const r = await reopen();
      expect(r.firstIndex()).toBe(BigInt(N - 4));
      expect(all(r)).toEqual(range(N - 4, N, 3).map((e) => `${e.index}.${e.term}`));
    });
  });
});
