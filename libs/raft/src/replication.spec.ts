import { ProgressState } from './progress';
import { Harness, forceLeader, msg, ofType, pump, storageWith, text } from './testing/helpers';
import { Network } from './testing/network';
import { EntryType, Message, MessageType, StateType } from './types';

const ids = [1n, 2n, 3n];

describe('log replication', () => {
  it('appends an empty entry of its term on election', () => {
    const net = new Network({ seed: 1, voters: ids });
    const l = net.waitForLeader();
    const r = net.raft(l).raft;
    const last = r.raftLog.allEntries().pop()!;
    expect([last.term, last.type, last.data.length]).toEqual([r.term, EntryType.Normal, 0]);
    net.stabilize();
    // The no-op commits everywhere.
    for (const id of ids) expect(net.raft(id).raft.raftLog.committed).toBe(last.index);
  });

  it('replicates and commits proposals everywhere, in order', () => {
    const net = new Network({ seed: 2, voters: [1n, 2n, 3n, 4n, 5n] });
    const l = net.waitForLeader();
    for (let i = 0; i < 50; i++) expect(net.propose(l, `e${i}`)).toBe(true);
    net.stabilize();
    const want = Array.from({ length: 50 }, (_, i) => `e${i}`);
    for (const sn of net.nodes.values()) expect(sn.appliedData()).toEqual(want);
  });

  it('truncates a conflicting uncommitted suffix on the follower', () => {
    const h = new Harness(storageWith(ids, [2, 2, 2]), { id: 2n });
    const out = h.deliver(
      msg({
        type: MessageType.App,
        from: 1n,
        to: 2n,
        term: 3n,
        index: 2n,
        logTerm: 2n,
        commit: 1n,
        entries: [{ index: 3n, term: 3n, type: 0, data: Buffer.from('x') }],
      }),
    );
    expect(out).toMatchObject([{ type: MessageType.AppResp, index: 3n, reject: false }]);
    expect(h.raft.raftLog.lastIndex()).toBe(3n);
    expect(h.storage.term(3n)).toBe(3n);
    expect(h.storage.lastIndex()).toBe(3n);
  });

  it('rejects a mismatching append with a hint at its last index of a lower term', () => {
    // Follower log, index 1..7: terms 1 | 2 2 2 | 3 3 3
    const h = new Harness(storageWith(ids, [2, 2, 2, 3, 3, 3]), { id: 2n });
    const out = h.deliver(msg({ type: MessageType.App, from: 1n, to: 2n, term: 5n, index: 9n, logTerm: 5n }));
    // Index 9 is past our log: hint at our last index and its term.
    expect(out).toMatchObject([
      { type: MessageType.AppResp, reject: true, index: 9n, rejectHint: 7n, logTerm: 3n },
    ]);
    const out2 = h.deliver(
      msg({ type: MessageType.App, from: 1n, to: 2n, term: 5n, index: 6n, logTerm: 4n }),
    );
    expect(out2).toMatchObject([{ reject: true, index: 6n, rejectHint: 6n, logTerm: 3n }]);
    const out3 = h.deliver(
      msg({ type: MessageType.App, from: 1n, to: 2n, term: 5n, index: 6n, logTerm: 2n }),
    );
    expect(out3).toMatchObject([{ reject: true, index: 6n, rejectHint: 4n, logTerm: 2n }]);
  });

  it('backs off one term per round trip, not one entry', () => {
    // Leader (index 2..11): 1 1 1 4 4 5 5 6 6 6; follower (2..12): 1 1 1 2 2 2 3 3 3 3 3.
    const leader = new Harness(storageWith(ids, [1, 1, 1, 4, 4, 5, 5, 6, 6, 6]), { id: 1n });
    const follower = new Harness(storageWith(ids, [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3]), { id: 2n });
    const nodes = new Map([
      [1n, leader],
      [2n, follower],
    ]);
    const out = forceLeader(leader, ids);
    const delivered = pump(nodes, out);
    const rejections = delivered.filter((m) => m.type === MessageType.AppResp && m.reject);
    expect(rejections.length).toBeGreaterThan(0);
    expect(rejections.length).toBeLessThanOrEqual(2);
    const le = leader.raft.raftLog.allEntries().map((e) => [e.index, e.term]);
    const fe = follower.raft.raftLog.allEntries().map((e) => [e.index, e.term]);
    expect(fe).toEqual(le);
  });

  it('probes until the first acknowledgement, then streams within the inflight window', () => {
    const net = new Network({ seed: 3, voters: ids, raft: { maxInflightMsgs: 2 } });
    const l = net.waitForLeader();
    net.stabilize();
    const f = ids.find((id) => id !== l)!;
    const pr = () => net.raft(l).raft.trk.progress.get(f)!;
    expect(pr().state).toBe(ProgressState.Replicate);
    // The follower's acknowledgements are lost: at most 2 appends go out.
    net.filter = (m) => !(m.from === f && m.type === MessageType.AppResp);
    const sent: Message[] = [];
    net.onSend = (m) => {
      if (m.to === f && m.type === MessageType.App && m.entries.length > 0) sent.push(m);
    };
    for (let i = 0; i < 10; i++) {
      net.propose(l, `p${i}`);
      net.stabilize();
    }
    expect(sent.length).toBe(2);
    expect(pr().isPaused()).toBe(true);
    // Once acknowledgements flow again the follower catches up.
    net.filter = undefined;
    net.tick(3);
    net.stabilize();
    expect(net.node(f).appliedData()).toEqual(Array.from({ length: 10 }, (_, i) => `p${i}`));
  });

  it('limits the size of append messages but always sends at least one entry', () => {
    const net = new Network({ seed: 4, voters: ids, raft: { maxSizePerMsg: 300 } });
    const l = net.waitForLeader();
    net.stabilize();
    const sizes: number[] = [];
    net.onSend = (m) => {
      if (m.type === MessageType.App && m.entries.length > 0) sizes.push(m.entries.length);
    };
    net.raft(l).proposeBatch(Array.from({ length: 10 }, () => Buffer.alloc(100, 1)));
    net.raft(l).propose(Buffer.alloc(1000, 2)); // larger than the limit on its own
    net.stabilize();
    expect(Math.max(...sizes)).toBe(2); // 2 * (100 + 24) <= 300 < 3 * 124
    expect(sizes).toContain(1);
    for (const id of ids) expect(net.node(id).applied.filter((e) => e.data.length > 0)).toHaveLength(11);
  });

  it('sends heartbeats carrying min(match, commit) and lets followers commit from them', () => {
    const net = new Network({ seed: 5, voters: ids });
    const l = net.waitForLeader();
    net.stabilize();
    const [a, b] = ids.filter((id) => id !== l);
    // b misses the appends that announce the new commit index.
    net.filter = (m) => !(m.to === b && m.type === MessageType.App && m.entries.length === 0);
    net.propose(l, 'x');
    net.stabilize();
    expect(net.node(a).appliedData()).toEqual(['x']);
    expect(net.node(b).appliedData()).toEqual([]);
    const beats: Message[] = [];
    net.onSend = (m) => {
      if (m.type === MessageType.Heartbeat) beats.push(m);
    };
    net.tick(1);
    net.stabilize();
    expect(net.node(b).appliedData()).toEqual(['x']);
    const commit = net.raft(l).raft.raftLog.committed;
    expect(beats.every((m) => m.commit <= commit)).toBe(true);
  });

  it('never sends a heartbeat commit index beyond what the follower has', () => {
    const net = new Network({ seed: 6, voters: ids });
    const l = net.waitForLeader();
    net.stabilize();
    const [a, b] = ids.filter((id) => id !== l);
    net.filter = (m) => !(m.to === b && m.type === MessageType.App);
    for (let i = 0; i < 5; i++) net.propose(l, `y${i}`);
    net.stabilize();
    const beats: Message[] = [];
    net.onSend = (m) => {
      if (m.type === MessageType.Heartbeat && m.to === b) beats.push(m);
    };
    net.tick(2);
    const match = net.raft(l).raft.trk.progress.get(b)!.match;
    expect(beats.length).toBeGreaterThan(0);
    expect(beats.every((m) => m.commit <= match)).toBe(true);
    expect(net.raft(a).raft.raftLog.committed).toBeGreaterThan(match);
  });

  it('recovers when every append in a full window was lost', () => {
    const net = new Network({ seed: 7, voters: ids, raft: { maxInflightMsgs: 1 } });
    const l = net.waitForLeader();
    net.stabilize();
    const f = ids.find((id) => id !== l)!;
    net.filter = (m) => !(m.to === f && m.type === MessageType.App);
    for (let i = 0; i < 5; i++) net.propose(l, `z${i}`);
    net.stabilize();
    net.filter = undefined;
    net.tick(5);
    net.stabilize();
    expect(net.node(f).appliedData()).toEqual(['z0', 'z1', 'z2', 'z3', 'z4']);
  });

  it('falls back to probing when a follower is reported unreachable', () => {
    const net = new Network({ seed: 8, voters: ids });
    const l = net.waitForLeader();
    net.stabilize();
    const f = ids.find((id) => id !== l)!;
    expect(net.raft(l).raft.trk.progress.get(f)!.state).toBe(ProgressState.Replicate);
    net.raft(l).reportUnreachable(f);
    expect(net.raft(l).raft.trk.progress.get(f)!.state).toBe(ProgressState.Probe);
    net.propose(l, 'after');
    net.stabilize();
    expect(net.raft(l).raft.trk.progress.get(f)!.state).toBe(ProgressState.Replicate);
    expect(net.node(f).appliedData()).toEqual(['after']);
  });

  it('a leader acknowledges its own entries only after persisting them', () => {
    const h = new Harness(storageWith([1n]), { id: 1n });
    forceLeader(h, [1n]);
    h.node.propose(Buffer.from('a'));
    const rd = h.node.ready();
    expect(rd.entries.map(text)).toEqual(['a']);
    expect(rd.committedEntries.map(text)).not.toContain('a');
    h.storage.append(rd.entries);
    h.node.advance();
    // The self-acknowledgement now commits the entry.
    const rd2 = h.node.ready();
    expect(rd2.committedEntries.map(text)).toEqual(['a']);
    expect(rd2.hardState!.commit).toBe(rd.entries[0].index);
    h.node.advance();
    expect(h.raft.state).toBe(StateType.Leader);
  });

  it('ignores stale append responses', () => {
    const net = new Network({ seed: 9, voters: ids });
    const l = net.waitForLeader();
    net.stabilize();
    const f = ids.find((id) => id !== l)!;
    const pr = net.raft(l).raft.trk.progress.get(f)!;
    const before = [pr.match, pr.next, pr.state];
    net.raft(l).step(
      msg({
        type: MessageType.AppResp,
        from: f,
        to: l,
        term: net.raft(l).raft.term,
        index: 1n,
        reject: true,
        rejectHint: 0n,
      }),
    );
    expect([pr.match, pr.next, pr.state]).toEqual(before);
    expect(ofType(net.raft(l).raft.msgs, MessageType.App)).toEqual([]);
  });
});
