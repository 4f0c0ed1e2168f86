import { ProposalDroppedError } from './errors';
import { Network } from './testing/network';
import { MessageType, StateType } from './types';

const ids = [1n, 2n, 3n];

function setup(seed: number, raft = {}) {
  const net = new Network({ seed, voters: ids, raft });
  const l = net.waitForLeader();
  net.stabilize();
  return { net, l, followers: ids.filter((id) => id !== l) };
}

describe('leadership transfer', () => {
  it('hands leadership to an up-to-date follower at once', () => {
    const { net, l, followers } = setup(1);
    const term = net.raft(l).raft.term;
    const sent: MessageType[] = [];
    net.onSend = (m) => sent.push(m.type);
    net.raft(l).transferLeadership(followers[0]);
    net.stabilize();
    expect(sent[0]).toBe(MessageType.TimeoutNow);
    expect(net.leaderId()).toBe(followers[0]);
    expect(net.raft(followers[0]).raft.term).toBe(term + 1n);
    expect(net.raft(l).raft.state).toBe(StateType.Follower);
  });

  it('first brings a lagging target up to date, refusing proposals meanwhile', () => {
    const { net, l, followers } = setup(2);
    const target = followers[0];
    net.crash(target);
    for (let i = 0; i < 20; i++) net.propose(l, `v${i}`);
    net.stabilize();
    net.restart(target);
    net.raft(l).transferLeadership(target);
    expect(net.raft(l).raft.leadTransferee).toBe(target);
    expect(() => net.raft(l).propose(Buffer.from('during'))).toThrow(ProposalDroppedError);
    // Heartbeat responses reopen the replication flow the crash left stalled.
    net.tick(3);
    net.stabilize();
    expect(net.leaderId()).toBe(target);
    expect(net.node(target).appliedData()).toHaveLength(20);
    expect(net.propose(target, 'after')).toBe(true);
    net.stabilize();
    for (const id of ids) expect(net.node(id).appliedData().pop()).toBe('after');
  });

  it('works through check-quorum leases (the transfer campaign is forced)', () => {
    const { net, l, followers } = setup(3, { checkQuorum: true, preVote: true });
    net.raft(l).transferLeadership(followers[1]);
    net.stabilize();
    expect(net.leaderId()).toBe(followers[1]);
  });

  it('is aborted after an election timeout if the target does not take over', () => {
    const { net, l, followers } = setup(4);
    net.isolate(followers[0]);
    net.raft(l).transferLeadership(followers[0]);
    expect(() => net.raft(l).propose(Buffer.from('x'))).toThrow(ProposalDroppedError);
    net.tick(11);
    expect(net.raft(l).raft.leadTransferee).toBe(0n);
    expect(net.raft(l).raft.state).toBe(StateType.Leader);
    expect(net.propose(l, 'y')).toBe(true);
  });

  it('ignores transfers to itself, to learners and to unknown nodes', () => {
    const net = new Network({ seed: 5, voters: ids, learners: [4n] });
    const l = net.waitForLeader();
    net.stabilize();
    for (const target of [l, 4n, 99n]) {
      net.raft(l).transferLeadership(target);
      expect(net.raft(l).raft.leadTransferee).toBe(0n);
    }
    net.stabilize();
    expect(net.leaderId()).toBe(l);
  });

  it('a newer request to another node replaces the pending one', () => {
    const { net, l, followers } = setup(6);
    net.isolate(followers[0]);
    net.raft(l).transferLeadership(followers[0]);
    net.raft(l).transferLeadership(followers[1]);
    net.stabilize();
    expect(net.leaderId()).toBe(followers[1]);
  });

  it('can be requested on a follower, which forwards it', () => {
    const { net, followers } = setup(7);
    net.raft(followers[0]).transferLeadership(followers[1]);
    net.stabilize();
    expect(net.leaderId()).toBe(followers[1]);
  });

  it('fails visibly on a node that knows no leader', () => {
    const net = new Network({ seed: 8, voters: ids });
    expect(() => net.raft(1n).transferLeadership(2n)).toThrow(ProposalDroppedError);
  });
});
