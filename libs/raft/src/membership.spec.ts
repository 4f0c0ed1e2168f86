import { ProposalDroppedError } from './errors';
import { Harness, forceLeader, msg, ofType, storageWith } from './testing/helpers';
import { Network } from './testing/network';
import {
  ConfChangeSingle,
  ConfChangeTransition,
  ConfChangeType,
  ConfChangeV2,
  EMPTY_BYTES,
  MessageType,
  StateType,
} from './types';

const ids = [1n, 2n, 3n];
const add = (nodeId: bigint): ConfChangeSingle => ({ type: ConfChangeType.AddNode, nodeId });
const learner = (nodeId: bigint): ConfChangeSingle => ({ type: ConfChangeType.AddLearnerNode, nodeId });
const remove = (nodeId: bigint): ConfChangeSingle => ({ type: ConfChangeType.RemoveNode, nodeId });
const v2 = (changes: ConfChangeSingle[], transition = ConfChangeTransition.Auto): ConfChangeV2 => ({
  transition,
  changes,
  context: EMPTY_BYTES,
});
const v1 = (type: ConfChangeType, nodeId: bigint) => ({ type, nodeId, context: EMPTY_BYTES, id: 0n });

function setup(seed = 1, voters = ids) {
  const net = new Network({ seed, voters });
  const l = net.waitForLeader();
  net.stabilize();
  return { net, l };
}

describe('membership changes', () => {
  it('adds a voter that catches up and counts towards the quorum', () => {
    const { net, l } = setup();
    net.addNode(4n);
    net.raft(l).proposeConfChange(v1(ConfChangeType.AddNode, 4n));
    net.stabilize();
    net.tick(2);
    net.stabilize();
    for (const sn of net.nodes.values()) expect(sn.confState.voters).toEqual([1n, 2n, 3n, 4n]);
    // With 4 voters the quorum is 3: lose one old follower and commit with the new node's help.
    const [a, b] = ids.filter((id) => id !== l);
    net.crash(a);
    expect(net.propose(l, 'x')).toBe(true);
    net.stabilize();
    expect(net.node(4n).appliedData()).toContain('x');
    expect(net.node(b).appliedData()).toContain('x');
    // Lose another: 2 of 4 cannot commit.
    net.crash(b);
    net.propose(l, 'y');
    net.stabilize();
    expect(net.node(l).appliedData()).not.toContain('y');
  });

  it('removes a follower; the rest commit without it', () => {
    const { net, l } = setup(2);
    const [a, b] = ids.filter((id) => id !== l);
    net.raft(l).proposeConfChange(v1(ConfChangeType.RemoveNode, a));
    net.stabilize();
    expect(net.node(l).confState.voters).toEqual(ids.filter((id) => id !== a));
    expect(net.raft(l).raft.trk.progress.has(a)).toBe(false);
    net.crash(a);
    expect(net.propose(l, 'x')).toBe(true);
    net.stabilize();
    expect(net.node(b).appliedData()).toEqual(['x']);
  });

  it('removes the leader: it hands over, and the rest elect a leader and commit', () => {
    const { net, l } = setup(3);
    const rest = ids.filter((id) => id !== l);
    net.raft(l).proposeConfChange(v1(ConfChangeType.RemoveNode, l));
    net.stabilize();
    net.tick(5);
    net.stabilize();
    expect(net.raft(l).raft.state).not.toBe(StateType.Leader);
    // The removed node shuts down, as its driver would.
    net.crash(l);
    const l2 = net.waitForLeader();
    expect(rest).toContain(l2);
    expect(net.node(l2).confState.voters).toEqual(rest);
    expect(net.propose(l2, 'after')).toBe(true);
    net.stabilize();
    for (const id of rest) expect(net.node(id).appliedData()).toEqual(['after']);
  });

  it('a removed leader refuses proposals, brings the best voter up to date, then hands off', () => {
    const h = new Harness(storageWith(ids), { id: 1n });
    forceLeader(h, ids);
    h.flush();
    const last = h.raft.raftLog.lastIndex();
    // Follower 3 is further along than 2: it is the one chosen.
    h.deliver(msg({ type: MessageType.AppResp, from: 3n, to: 1n, term: h.raft.term, index: last - 1n }));
    h.node.applyConfChange(v1(ConfChangeType.RemoveNode, 1n));
    expect(h.raft.state).toBe(StateType.Leader);
    expect(h.raft.leadTransferee).toBe(3n);
    expect(() => h.node.propose(Buffer.from('x'))).toThrow(ProposalDroppedError);
    const out = h.deliver(
      msg({ type: MessageType.AppResp, from: 3n, to: 1n, term: h.raft.term, index: last }),
    );
    expect(ofType(out, MessageType.TimeoutNow).map((m) => m.to)).toEqual([3n]);
    expect(h.raft.state).toBe(StateType.Follower);
    expect(() => h.node.propose(Buffer.from('y'))).toThrow(ProposalDroppedError);
  });

  it('learners receive the log but neither vote nor count for commit', () => {
    const net = new Network({ seed: 5, voters: [1n, 2n], learners: [3n] });
    const l = net.waitForLeader();
    expect(l).not.toBe(3n);
    net.propose(l, 'a');
    net.stabilize();
    expect(net.node(3n).appliedData()).toEqual(['a']);
    const other = l === 1n ? 2n : 1n;
    net.crash(other);
    net.propose(l, 'b');
    net.stabilize();
    net.tick(3);
    expect(net.node(3n).appliedData()).toEqual(['a']);
    expect(net.raft(3n).raft.isLearner).toBe(true);
  });

  it('promotes a learner to a voter that can lead', () => {
    const net = new Network({ seed: 6, voters: [1n, 2n], learners: [3n] });
    const l = net.waitForLeader();
    net.raft(l).proposeConfChange(v1(ConfChangeType.AddNode, 3n));
    net.stabilize();
    expect(net.node(3n).confState).toMatchObject({ voters: [1n, 2n, 3n], learners: [] });
    expect(net.raft(3n).raft.isLearner).toBe(false);
    net.raft(l).transferLeadership(3n);
    net.stabilize();
    expect(net.leaderId()).toBe(3n);
  });

  it('replaces two voters through a joint configuration left automatically', () => {
    const { net, l } = setup(7, [1n, 2n, 3n]);
    const gone = ids.filter((id) => id !== l);
    net.addNode(4n);
    net.addNode(5n);
    const seen: string[] = [];
    net.raft(l).proposeConfChange(v2([add(4n), add(5n), remove(gone[0]), remove(gone[1])]));
    for (let i = 0; i < 50; i++) {
      net.step();
      const cs = net.raft(l).raft.trk.confState();
      const s = `${cs.voters.join(',')}|${cs.votersOutgoing.join(',')}`;
      if (seen[seen.length - 1] !== s) seen.push(s);
    }
    net.stabilize();
    const final = [l, 4n, 5n].sort((a, b) => Number(a - b));
    // Old config, then joint (new && old), then the new one alone.
    expect(seen).toEqual(['1,2,3|', `${final.join(',')}|1,2,3`, `${final.join(',')}|`]);
    for (const id of final)
      expect(net.node(id).confState).toMatchObject({ voters: final, votersOutgoing: [], autoLeave: false });
  });

  it('stays joint until an explicit leave with JointExplicit', () => {
    const { net, l } = setup(8);
    net.addNode(4n);
    net.raft(l).proposeConfChange(v2([add(4n)], ConfChangeTransition.JointExplicit));
    net.stabilize();
    net.tick(5);
    net.stabilize();
    expect(net.node(l).confState).toMatchObject({
      voters: [1n, 2n, 3n, 4n],
      votersOutgoing: ids,
      autoLeave: false,
    });
    // Only the leave is accepted now.
    expect(() => net.raft(l).proposeConfChange(v2([add(5n)]))).toThrow(ProposalDroppedError);
    net.raft(l).proposeConfChange(v2([]));
    net.stabilize();
    for (const id of [1n, 2n, 3n, 4n]) {
      expect(net.node(id).confState).toMatchObject({ voters: [1n, 2n, 3n, 4n], votersOutgoing: [] });
    }
  });

  it('needs both majorities while joint', () => {
    const { net, l } = setup(9);
    const others = ids.filter((id) => id !== l);
    net.addNode(4n);
    net.addNode(5n);
    // Joint (l,4,5) && (1,2,3): the new majority alone cannot commit.
    net
      .raft(l)
      .proposeConfChange(
        v2([add(4n), add(5n), remove(others[0]), remove(others[1])], ConfChangeTransition.JointExplicit),
      );
    net.stabilize();
    expect(net.node(l).confState.votersOutgoing).toEqual(ids);
    for (const id of others) net.crash(id);
    net.propose(l, 'x');
    net.stabilize();
    net.tick(3);
    expect(net.node(4n).appliedData()).not.toContain('x');
    net.restart(others[0]);
    net.tick(3);
    net.stabilize();
    expect(net.node(4n).appliedData()).toContain('x');
  });

  it('demotes a voter to learner through learnersNext', () => {
    const { net, l } = setup(10);
    const f = ids.find((id) => id !== l)!;
    net.raft(l).proposeConfChange(v2([learner(f)], ConfChangeTransition.JointImplicit));
    net.stabilize();
    net.tick(2);
    net.stabilize();
    const rest = ids.filter((id) => id !== f);
    expect(net.node(l).confState).toMatchObject({
      voters: rest,
      learners: [f],
      learnersNext: [],
      votersOutgoing: [],
    });
    expect(net.raft(f).raft.isLearner).toBe(true);
  });

  it('refuses a second conf change until the first is applied, and invalid joint transitions', () => {
    const { net, l } = setup(11);
    net.addNode(4n);
    net.addNode(5n);
    const r = net.raft(l);
    r.proposeConfChange(v1(ConfChangeType.AddLearnerNode, 4n));
    expect(() => r.proposeConfChange(v1(ConfChangeType.AddLearnerNode, 5n))).toThrow(/unapplied conf change/);
    net.stabilize();
    expect(() => r.proposeConfChange(v2([]))).toThrow(/not in joint state/);
    r.proposeConfChange(v1(ConfChangeType.AddLearnerNode, 5n));
    net.stabilize();
    expect(net.node(l).confState.learners).toEqual([4n, 5n]);
  });

  it('forwards conf changes proposed on a follower', () => {
    const { net, l } = setup(12);
    const f = ids.find((id) => id !== l)!;
    net.addNode(4n);
    net.raft(f).proposeConfChange(v1(ConfChangeType.AddLearnerNode, 4n));
    net.stabilize();
    expect(net.node(l).confState.learners).toEqual([4n]);
  });
});
