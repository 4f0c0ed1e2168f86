import { ConfigError, StepLocalMessageError } from './errors';
import { RaftNode, bootstrapStorage } from './node';
import { MemoryStorage } from './storage';
import { Harness, entriesWithTerms, forceLeader, msg, storageWith, text } from './testing/helpers';
import { EntryType, MessageType, StateType } from './types';

const ids = [1n, 2n, 3n];

describe('RaftNode (Ready/Advance)', () => {
  it('validates its configuration', () => {
    const storage = new MemoryStorage();
    const base = { id: 1n, electionTick: 10, heartbeatTick: 1, storage };
    expect(() => new RaftNode({ ...base, id: 0n })).toThrow(ConfigError);
    expect(() => new RaftNode({ ...base, heartbeatTick: 0 })).toThrow(ConfigError);
    expect(() => new RaftNode({ ...base, electionTick: 1 })).toThrow(ConfigError);
    expect(() => new RaftNode({ ...base, maxInflightMsgs: 0 })).toThrow(ConfigError);
    expect(() => new RaftNode(base)).not.toThrow();
  });

  it('reports soft state changes, hard state changes and sync needs', () => {
    const h = new Harness(storageWith([1n]), { id: 1n });
    expect(h.node.hasReady()).toBe(false);
    h.node.campaign();
    const rd = h.node.ready();
    expect(rd.softState).toEqual({ lead: 0n, raftState: StateType.Candidate });
    expect(rd.hardState).toEqual({ term: 2n, vote: 1n, commit: 1n });
    expect(rd.mustSync).toBe(true);
    h.storage.setHardState(rd.hardState!);
    h.node.advance();
    const rd2 = h.node.ready();
    expect(rd2.softState).toEqual({ lead: 1n, raftState: StateType.Leader });
    expect(rd2.entries.map((e) => [e.index, e.term])).toEqual([[2n, 2n]]);
    h.storage.append(rd2.entries);
    h.node.advance();
    const rd3 = h.node.ready();
    // Only the commit index moved: no fsync needed, and no soft state.
    expect(rd3.softState).toBeUndefined();
    expect(rd3.hardState).toEqual({ term: 2n, vote: 1n, commit: 2n });
    expect(rd3.mustSync).toBe(false);
    expect(rd3.committedEntries.map((e) => e.index)).toEqual([2n]);
    h.node.advance();
    expect(h.node.hasReady()).toBe(false);
  });

  it('splits messages into those sent at once and those sent after persisting', () => {
    const h = new Harness(storageWith(ids), { id: 1n });
    const f = new Harness(storageWith(ids), { id: 2n });
    const first = forceLeader(h, ids).concat(h.flush());
    const noop = first.find((m) => m.type === MessageType.App && m.to === 2n)!;
    for (const m of f.deliver(noop)) h.deliver(m);
    h.deliver(
      msg({
        type: MessageType.AppResp,
        from: 3n,
        to: 1n,
        term: h.raft.term,
        index: h.raft.raftLog.lastIndex(),
      }),
    );
    h.node.propose(Buffer.from('p'));
    const rd = h.node.ready();
    // Appends may go out in parallel with the leader's own write.
    expect(rd.messages.map((m) => m.type)).toEqual([MessageType.App, MessageType.App]);
    expect(rd.messagesAfterPersist).toEqual([]);
    expect(rd.entries.map(text)).toEqual(['p']);
    h.node.advance();
    f.node.step({ ...rd.messages.find((m) => m.to === 2n)! });
    const frd = f.node.ready();
    // A follower's acknowledgement vouches for its disk: it waits for the write.
    expect(frd.messages).toEqual([]);
    expect(frd.messagesAfterPersist.map((m) => m.type)).toEqual([MessageType.AppResp]);
    expect(frd.entries.map(text)).toEqual(['p']);
  });

  it('enforces the ready/advance protocol', () => {
    const h = new Harness(storageWith([1n]), { id: 1n });
    expect(() => h.node.advance()).toThrow(/without a ready/);
    h.node.campaign();
    h.node.ready();
    expect(h.node.hasReady()).toBe(false);
    expect(() => h.node.ready()).toThrow(/before advance/);
    h.node.advance();
    expect(h.node.hasReady()).toBe(true);
  });

  it('refuses local message types from the network', () => {
    const h = new Harness(storageWith(ids), { id: 1n });
    for (const type of [
      MessageType.Hup,
      MessageType.Beat,
      MessageType.CheckQuorum,
      MessageType.Unreachable,
      MessageType.SnapStatus,
    ]) {
      expect(() => h.node.step(msg({ type, from: 2n, to: 1n }))).toThrow(StepLocalMessageError);
    }
  });

  it('accepts messages between ready() and advance(); they go to the next Ready', () => {
    const f = new Harness(storageWith(ids), { id: 2n });
    f.node.step(
      msg({
        type: MessageType.App,
        from: 1n,
        to: 2n,
        term: 2n,
        index: 1n,
        logTerm: 1n,
        entries: [{ index: 2n, term: 2n, type: EntryType.Normal, data: Buffer.from('a') }],
      }),
    );
    const rd = f.node.ready();
    f.node.step(
      msg({
        type: MessageType.App,
        from: 1n,
        to: 2n,
        term: 2n,
        index: 2n,
        logTerm: 2n,
        commit: 3n,
        entries: [{ index: 3n, term: 2n, type: EntryType.Normal, data: Buffer.from('b') }],
      }),
    );
    f.storage.append(rd.entries);
    f.storage.setHardState(rd.hardState!);
    f.node.advance();
    const rd2 = f.node.ready();
    expect(rd2.entries.map(text)).toEqual(['b']);
    expect(rd2.committedEntries.map(text)).toEqual(['a', 'b']);
    expect(rd2.messagesAfterPersist.map((m) => m.index)).toEqual([3n]);
    f.storage.append(rd2.entries);
    f.node.advance();
    expect(f.storage.lastIndex()).toBe(3n);
  });

  it('rewrites entries that were replaced between ready() and advance()', () => {
    const f = new Harness(storageWith(ids), { id: 2n });
    const app = (term: bigint, data: string) =>
      msg({
        type: MessageType.App,
        from: 1n,
        to: 2n,
        term,
        index: 1n,
        logTerm: 1n,
        entries: [{ index: 2n, term, type: EntryType.Normal, data: Buffer.from(data) }],
      });
    f.node.step(app(2n, 'old'));
    const rd = f.node.ready();
    f.node.step(app(3n, 'new'));
    f.storage.append(rd.entries);
    f.node.advance();
    const rd2 = f.node.ready();
    expect(rd2.entries.map(text)).toEqual(['new']);
    f.storage.append(rd2.entries);
    f.node.advance();
    expect(f.storage.term(2n)).toBe(3n);
  });

  it('restarts from storage without re-applying what was applied', () => {
    const s = storageWith(ids, [1, 1, 1]);
    s.setHardState({ term: 1n, vote: 0n, commit: 4n });
    const n = new RaftNode({ id: 1n, electionTick: 10, heartbeatTick: 1, storage: s, applied: 2n });
    const rd = n.ready();
    expect(rd.committedEntries.map((e) => e.index)).toEqual([3n, 4n]);
    expect(rd.entries).toEqual([]);
    expect(rd.hardState).toBeUndefined();
  });

  it('hands out committed entries in bounded batches', () => {
    const s = storageWith(ids);
    s.append(entriesWithTerms(Array(10).fill(1), 2).map((e) => ({ ...e, data: Buffer.alloc(100) })));
    s.setHardState({ term: 1n, vote: 0n, commit: 11n });
    const n = new RaftNode({
      id: 1n,
      electionTick: 10,
      heartbeatTick: 1,
      storage: s,
      maxCommittedSizePerReady: 300,
    });
    const batches: number[] = [];
    while (n.hasReady()) {
      batches.push(n.ready().committedEntries.length);
      n.advance();
    }
    expect(batches).toEqual([2, 2, 2, 2, 2]);
  });

  it('reports status, with per-member progress on the leader', () => {
    const h = new Harness(storageWith(ids, [], [4n]), { id: 1n });
    forceLeader(h, ids);
    h.flush();
    const st = h.node.status();
    expect(st.softState).toEqual({ lead: 1n, raftState: StateType.Leader });
    expect(st.config).toMatchObject({ voters: ids, learners: [4n] });
    expect([...st.progress!.keys()].sort()).toEqual([1n, 2n, 3n, 4n]);
    expect(st.progress!.get(4n)!.isLearner).toBe(true);
    expect(st.progress!.get(1n)!.match).toBe(h.raft.raftLog.lastIndex());
    const f = new Harness(storageWith(ids), { id: 2n });
    expect(f.node.status().progress).toBeUndefined();
  });

  it('bootstraps founding members identically', () => {
    const a = new MemoryStorage();
    const b = new MemoryStorage();
    bootstrapStorage(a, [1n, 2n], [3n]);
    bootstrapStorage(b, [1n, 2n], [3n]);
    expect(a.initialState()).toEqual(b.initialState());
    expect(a.initialState().confState).toMatchObject({ voters: [1n, 2n], learners: [3n] });
    expect(() => bootstrapStorage(new MemoryStorage(), [])).toThrow();
  });
});
