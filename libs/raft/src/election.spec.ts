import { RaftNode } from './node';
import { SeededRandom } from './rand';
import { MemoryStorage } from './storage';
import { Harness, msg, ofType, storageWith } from './testing/helpers';
import { Network } from './testing/network';
import { MessageType, StateType } from './types';

const ids = [1n, 2n, 3n];

function leaders(net: Network): bigint[] {
  return [...net.nodes.values()].filter((sn) => sn.node?.raft.state === StateType.Leader).map((sn) => sn.id);
}

describe('leader election', () => {
  it.each([1, 3, 5])('elects exactly one leader in a %i-node cluster', (n) => {
    const voters = Array.from({ length: n }, (_, i) => BigInt(i + 1));
    const net = new Network({ seed: 7, voters });
    const l = net.waitForLeader();
    net.tick(5);
    expect(leaders(net)).toEqual([l]);
    const term = net.raft(l).raft.term;
    for (const sn of net.nodes.values()) {
      expect(sn.node!.raft.term).toBe(term);
      expect(sn.node!.raft.lead).toBe(l);
    }
  });

  it('randomizes election timeouts in [electionTick, 2*electionTick), reproducibly per seed', () => {
    const timeouts = (seed: number): number[] => {
      const h = new Harness(storageWith(ids), { id: 1n, random: new SeededRandom(seed) });
      const out: number[] = [];
      for (let i = 0; i < 200; i++) {
        h.raft.becomeFollower(h.raft.term + 1n, 0n);
        out.push(h.raft.randomizedElectionTimeout);
      }
      return out;
    };
    const a = timeouts(1);
    expect(Math.min(...a)).toBe(10);
    expect(Math.max(...a)).toBe(19);
    expect(timeouts(1)).toEqual(a);
    expect(timeouts(2)).not.toEqual(a);
  });

  it('campaigns after the election timeout: term+1, votes for itself, asks every voter', () => {
    const h = new Harness(storageWith(ids), { id: 1n });
    let out: ReturnType<Harness['flush']> = [];
    for (let i = 0; i < 20 && h.raft.state === StateType.Follower; i++) {
      h.node.tick();
      out = h.flush();
    }
    expect(h.raft.state).toBe(StateType.Candidate);
    expect(h.raft.term).toBe(2n);
    expect(h.raft.vote).toBe(1n);
    const votes = ofType(out, MessageType.Vote);
    expect(votes.map((m) => m.to).sort()).toEqual([2n, 3n]);
    expect(votes.every((m) => m.term === 2n && m.index === 1n && m.logTerm === 1n)).toBe(true);
    // The vote for itself was persisted in the same Ready.
    expect(h.storage.initialState().hardState).toMatchObject({ term: 2n, vote: 1n });
  });

  it('grants at most one vote per term and persists it before answering', () => {
    const h = new Harness(storageWith(ids), { id: 1n });
    h.node.step(msg({ type: MessageType.Vote, from: 2n, to: 1n, term: 5n, index: 1n, logTerm: 1n }));
    const rd = h.node.ready();
    expect(rd.hardState).toMatchObject({ term: 5n, vote: 2n });
    expect(rd.mustSync).toBe(true);
    expect(rd.messages).toEqual([]);
    expect(rd.messagesAfterPersist).toMatchObject([
      { type: MessageType.VoteResp, to: 2n, term: 5n, reject: false },
    ]);
    h.node.advance();
    // Another candidate in the same term is refused; the first may ask again.
    let out = h.deliver(msg({ type: MessageType.Vote, from: 3n, to: 1n, term: 5n, index: 9n, logTerm: 9n }));
    expect(out).toMatchObject([{ type: MessageType.VoteResp, to: 3n, reject: true }]);
    out = h.deliver(msg({ type: MessageType.Vote, from: 2n, to: 1n, term: 5n, index: 1n, logTerm: 1n }));
    expect(out).toMatchObject([{ type: MessageType.VoteResp, to: 2n, reject: false }]);
  });

  it('refuses candidates whose log is behind (election restriction)', () => {
    // Our log: index 2..4 with terms 2, 2, 3.
    const h = new Harness(storageWith(ids, [2, 2, 3]), { id: 1n });
    const ask = (index: bigint, logTerm: bigint, term: bigint) =>
      h.deliver(msg({ type: MessageType.Vote, from: 2n, to: 1n, term, index, logTerm }))[0];
    expect(ask(4n, 2n, 10n).reject).toBe(true); // older last term
    expect(ask(3n, 3n, 11n).reject).toBe(true); // same term, shorter
    expect(ask(4n, 3n, 12n).reject).toBe(false); // same
    expect(ask(2n, 4n, 13n).reject).toBe(false); // newer last term wins despite shorter log
  });

  it('tells a refused candidate how much of its log is committed, and the candidate commits it', () => {
    // The voter's log: index 2..4 with terms 2, 2, 3, committed up to 3.
    const voterStorage = storageWith(ids, [2, 2, 3]);
    voterStorage.setHardState({ term: 3n, vote: 0n, commit: 3n });
    const voter = new Harness(voterStorage, { id: 2n });
    const ask = (index: bigint, logTerm: bigint, term: bigint) =>
      voter.deliver(msg({ type: MessageType.Vote, from: 1n, to: 2n, term, index, logTerm }))[0];
    // min(our commit, the candidate's last index), with our term there.
    expect(ask(2n, 2n, 10n)).toMatchObject({ reject: true, index: 2n, logTerm: 2n });
    expect(ask(4n, 2n, 11n)).toMatchObject({ reject: true, index: 3n, logTerm: 2n });

    // The candidate holds index 2..4 with terms 2, 2, 2 and knows only index 1 committed.
    const candidate = new Harness(storageWith(ids, [2, 2, 2]), { id: 1n });
    candidate.node.campaign();
    candidate.flush();
    const term = candidate.raft.term;
    // A different term at the reported index proves nothing: no commit.
    candidate.deliver(
      msg({ type: MessageType.VoteResp, from: 3n, to: 1n, term, reject: true, index: 4n, logTerm: 3n }),
    );
    expect(candidate.raft.raftLog.committed).toBe(1n);
    // The same term there means the same prefix: committed, and applied.
    candidate.deliver(
      msg({ type: MessageType.VoteResp, from: 2n, to: 1n, term, reject: true, index: 3n, logTerm: 2n }),
    );
    expect(candidate.raft.raftLog.committed).toBe(3n);
    expect(candidate.applied.map((e) => e.index)).toEqual([2n, 3n]);
  });

  it('keeps its term and vote across a restart', () => {
    const storage = storageWith(ids);
    const h = new Harness(storage, { id: 1n });
    h.deliver(msg({ type: MessageType.Vote, from: 2n, to: 1n, term: 5n, index: 1n, logTerm: 1n }));
    const again = new Harness(storage, { id: 1n });
    expect([again.raft.term, again.raft.vote]).toEqual([5n, 2n]);
    const out = again.deliver(
      msg({ type: MessageType.Vote, from: 3n, to: 1n, term: 5n, index: 1n, logTerm: 1n }),
    );
    expect(out[0].reject).toBe(true);
  });

  it('steps down on any message with a higher term and ignores lower terms', () => {
    const net = new Network({ seed: 1, voters: ids });
    const l = net.waitForLeader();
    const r = net.raft(l);
    const term = r.raft.term;
    r.step(msg({ type: MessageType.AppResp, from: 2n, to: l, term: term + 3n }));
    expect(r.raft.state).toBe(StateType.Follower);
    expect(r.raft.term).toBe(term + 3n);
    expect(r.raft.lead).toBe(0n);
    // A heartbeat from an old leader is ignored (no check-quorum / pre-vote: no answer).
    const h = new Harness(storageWith(ids), { id: 1n });
    h.deliver(msg({ type: MessageType.Vote, from: 2n, to: 1n, term: 5n, index: 1n, logTerm: 1n }));
    expect(h.deliver(msg({ type: MessageType.Heartbeat, from: 3n, to: 1n, term: 4n }))).toEqual([]);
    expect(h.raft.lead).toBe(0n);
  });

  it('becomes follower when a candidate hears from a leader of its term', () => {
    const h = new Harness(storageWith(ids), { id: 1n });
    h.node.campaign();
    h.flush();
    expect(h.raft.state).toBe(StateType.Candidate);
    h.deliver(msg({ type: MessageType.App, from: 3n, to: 1n, term: h.raft.term, index: 1n, logTerm: 1n }));
    expect(h.raft.state).toBe(StateType.Follower);
    expect(h.raft.lead).toBe(3n);
  });

  it('wins with a majority and loses with a majority of rejections', () => {
    const win = new Harness(storageWith([1n, 2n, 3n, 4n, 5n]), { id: 1n });
    win.node.campaign();
    win.flush();
    win.deliver(msg({ type: MessageType.VoteResp, from: 2n, to: 1n, term: 2n }));
    expect(win.raft.state).toBe(StateType.Candidate);
    win.deliver(msg({ type: MessageType.VoteResp, from: 3n, to: 1n, term: 2n }));
    expect(win.raft.state).toBe(StateType.Leader);

    const lose = new Harness(storageWith([1n, 2n, 3n, 4n, 5n]), { id: 1n });
    lose.node.campaign();
    lose.flush();
    for (const from of [2n, 3n])
      lose.deliver(msg({ type: MessageType.VoteResp, from, to: 1n, term: 2n, reject: true }));
    expect(lose.raft.state).toBe(StateType.Candidate);
    lose.deliver(msg({ type: MessageType.VoteResp, from: 4n, to: 1n, term: 2n, reject: true }));
    expect(lose.raft.state).toBe(StateType.Follower);
    expect(lose.raft.term).toBe(2n);
  });

  it('a single node elects itself once its vote is durable', () => {
    const h = new Harness(storageWith([1n]), { id: 1n });
    h.node.campaign();
    const rd = h.node.ready();
    expect(h.raft.state).toBe(StateType.Candidate);
    expect(rd.hardState).toMatchObject({ vote: 1n });
    h.storage.setHardState(rd.hardState!);
    h.node.advance();
    expect(h.raft.state).toBe(StateType.Leader);
  });

  it('learners never campaign', () => {
    const h = new Harness(storageWith([2n, 3n], [], [1n]), { id: 1n });
    for (let i = 0; i < 100; i++) h.node.tick();
    expect(h.flush()).toEqual([]);
    expect(h.raft.state).toBe(StateType.Follower);
    h.node.campaign();
    expect(h.raft.state).toBe(StateType.Follower);
  });

  it('resolves split votes through randomized timeouts', () => {
    // Many seeds: some start with simultaneous candidates; all converge.
    for (let seed = 0; seed < 30; seed++) {
      const net = new Network({ seed, voters: [1n, 2n, 3n, 4n], raft: { electionTick: 3 } });
      const l = net.waitForLeader(500);
      net.tick(3);
      expect(leaders(net)).toEqual([l]);
    }
  });
});

describe('pre-vote', () => {
  it('does not raise the term until a quorum agrees', () => {
    const h = new Harness(storageWith(ids), { id: 1n, preVote: true });
    h.node.campaign();
    const out = h.flush();
    expect(h.raft.state).toBe(StateType.PreCandidate);
    expect(h.raft.term).toBe(1n);
    const pre = ofType(out, MessageType.PreVote);
    expect(pre.map((m) => [m.to, m.term])).toEqual([
      [2n, 2n],
      [3n, 2n],
    ]);
    // One granted pre-vote + our own = quorum: now the real election at term 2.
    const out2 = h.deliver(msg({ type: MessageType.PreVoteResp, from: 2n, to: 1n, term: 2n }));
    expect(h.raft.state).toBe(StateType.Candidate);
    expect(h.raft.term).toBe(2n);
    expect(ofType(out2, MessageType.Vote)).toHaveLength(2);
  });

  it('returns to follower when pre-votes are refused', () => {
    const h = new Harness(storageWith(ids), { id: 1n, preVote: true });
    h.node.campaign();
    h.flush();
    h.deliver(msg({ type: MessageType.PreVoteResp, from: 2n, to: 1n, term: 1n, reject: true }));
    h.deliver(msg({ type: MessageType.PreVoteResp, from: 3n, to: 1n, term: 1n, reject: true }));
    expect(h.raft.state).toBe(StateType.Follower);
    expect(h.raft.term).toBe(1n);
  });

  it('grants pre-votes without changing its own term or vote', () => {
    const h = new Harness(storageWith(ids), { id: 1n, preVote: true });
    const out = h.deliver(
      msg({ type: MessageType.PreVote, from: 2n, to: 1n, term: 9n, index: 1n, logTerm: 1n }),
    );
    expect(out).toMatchObject([{ type: MessageType.PreVoteResp, to: 2n, term: 9n, reject: false }]);
    expect([h.raft.term, h.raft.vote]).toEqual([1n, 0n]);
    // Pre-votes from stale terms are refused with our term.
    h.deliver(msg({ type: MessageType.Vote, from: 3n, to: 1n, term: 10n, index: 1n, logTerm: 1n }));
    const stale = h.deliver(
      msg({ type: MessageType.PreVote, from: 2n, to: 1n, term: 4n, index: 1n, logTerm: 1n }),
    );
    expect(stale).toMatchObject([{ type: MessageType.PreVoteResp, term: 10n, reject: true }]);
  });

  it('keeps an isolated node from inflating its term', () => {
    const net = new Network({ seed: 3, voters: ids, raft: { preVote: true } });
    const l = net.waitForLeader();
    const f = ids.find((id) => id !== l)!;
    const term = net.raft(l).raft.term;
    net.isolate(f);
    net.tick(100);
    expect(net.raft(f).raft.term).toBe(term);
    net.healPartitions();
    net.tick(20);
    expect(net.raft(l).raft.state).toBe(StateType.Leader);
    expect(net.raft(l).raft.term).toBe(term);
  });
});

describe('check-quorum', () => {
  it('makes a leader that lost its quorum step down', () => {
    const net = new Network({ seed: 4, voters: [1n, 2n, 3n, 4n, 5n], raft: { checkQuorum: true } });
    const l = net.waitForLeader();
    net.isolate(l);
    net.tick(25);
    expect(net.raft(l).raft.state).toBe(StateType.Follower);
    // Without check-quorum it would stay leader forever.
    const net2 = new Network({ seed: 4, voters: [1n, 2n, 3n, 4n, 5n] });
    const l2 = net2.waitForLeader();
    net2.isolate(l2);
    net2.tick(100);
    expect(net2.raft(l2).raft.state).toBe(StateType.Leader);
  });

  it('keeps a leader that hears from a quorum', () => {
    const net = new Network({ seed: 4, voters: [1n, 2n, 3n, 4n, 5n], raft: { checkQuorum: true } });
    const l = net.waitForLeader();
    const others = [1n, 2n, 3n, 4n, 5n].filter((id) => id !== l);
    net.partition([
      [l, others[0], others[1]],
      [others[2], others[3]],
    ]);
    net.tick(100);
    expect(net.raft(l).raft.state).toBe(StateType.Leader);
  });

  it('followers in lease ignore vote requests from a disruptive node', () => {
    const net = new Network({ seed: 5, voters: ids, raft: { checkQuorum: true } });
    const l = net.waitForLeader();
    const f = ids.find((id) => id !== l)!;
    const r = net.raft(l).raft;
    const term = r.term;
    // A vote request with a higher term arrives while the leader is healthy.
    const other = ids.find((id) => id !== l && id !== f)!;
    net
      .raft(other)
      .step(msg({ type: MessageType.Vote, from: f, to: other, term: term + 5n, index: 100n, logTerm: term }));
    expect(net.raft(other).raft.term).toBe(term);
    expect(net.raft(other).raft.lead).toBe(l);
  });

  it('lets a partitioned node that raised its term rejoin', () => {
    // With check-quorum but no pre-vote, an isolated node raises its term;
    // when it comes back the leader learns the term and a new election follows.
    const net = new Network({ seed: 6, voters: ids, raft: { checkQuorum: true } });
    const l = net.waitForLeader();
    const f = ids.find((id) => id !== l)!;
    net.isolate(f);
    net.tick(60);
    expect(net.raft(f).raft.term).toBeGreaterThan(net.raft(l).raft.term);
    const fTerm = net.raft(f).raft.term;
    net.healPartitions();
    net.tick(30);
    const l2 = net.waitForLeader(200);
    const term = net.raft(l2).raft.term;
    expect(term).toBeGreaterThan(fTerm - 1n);
    expect(term).toBeGreaterThanOrEqual(net.raft(f).raft.term);
    expect(net.propose(l2, 'after')).toBe(true);
    net.tick(5);
    for (const id of ids) expect(net.node(id).appliedData()).toContain('after');
  });
});

describe('campaign restrictions', () => {
  it('does not campaign while committed conf changes are unapplied', () => {
    const storage = new MemoryStorage();
    const net = new Network({ seed: 8, voters: ids });
    const l = net.waitForLeader();
    void storage;
    // Commit a conf change everywhere but keep a follower from applying it:
    // rebuild that follower with applied < committed and a conf change pending.
    net
      .raft(l)
      .proposeConfChange({ transition: 0, changes: [{ type: 3, nodeId: 9n }], context: new Uint8Array() });
    net.addNode(9n);
    net.stabilize();
    const f = ids.find((id) => id !== l)!;
    const sn = net.node(f);
    const node = new RaftNode({
      id: f,
      electionTick: 10,
      heartbeatTick: 1,
      storage: sn.storage,
      applied: 1n,
    });
    expect(node.raft.raftLog.committed).toBeGreaterThan(1n);
    node.campaign();
    expect(node.raft.state).toBe(StateType.Follower);
  });
});
