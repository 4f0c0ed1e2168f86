import { ProposalDroppedError } from './errors';
import { Harness, forceLeader, storageWith } from './testing/helpers';
import { Network } from './testing/network';
import { MessageType, StateType } from './types';

const ids = [1n, 2n, 3n];

describe('proposals', () => {
  it('are forwarded from followers to the leader and committed', () => {
    const net = new Network({ seed: 1, voters: ids });
    const l = net.waitForLeader();
    const f = ids.find((id) => id !== l)!;
    const forwarded: bigint[] = [];
    net.onSend = (m) => {
      if (m.type === MessageType.Prop) forwarded.push(m.to);
    };
    net.raft(f).proposeBatch([Buffer.from('a'), Buffer.from('b')]);
    net.stabilize();
    expect(forwarded).toEqual([l]);
    for (const id of ids) expect(net.node(id).appliedData()).toEqual(['a', 'b']);
  });

  it('fail visibly when no leader is known', () => {
    const net = new Network({ seed: 2, voters: ids });
    expect(() => net.raft(1n).propose(Buffer.from('x'))).toThrow(ProposalDroppedError);
    expect(() => net.raft(1n).propose(Buffer.from('x'))).toThrow(/no leader/);
  });

  it('fail visibly on a candidate', () => {
    const h = new Harness(storageWith(ids), { id: 1n });
    h.node.campaign();
    expect(h.raft.state).toBe(StateType.Candidate);
    expect(() => h.node.propose(Buffer.from('x'))).toThrow(ProposalDroppedError);
  });

  it('fail visibly when forwarding is disabled', () => {
    const net = new Network({ seed: 3, voters: ids, raft: { disableProposalForwarding: true } });
    const l = net.waitForLeader();
    const f = ids.find((id) => id !== l)!;
    expect(() => net.raft(f).propose(Buffer.from('x'))).toThrow(/forwarding is disabled/);
    expect(net.propose(l, 'ok')).toBe(true);
  });

  it('fail visibly when the uncommitted log is over budget, and recover as it commits', () => {
    const h = new Harness(storageWith(ids), { id: 1n, maxUncommittedEntriesSize: 100 });
    forceLeader(h, ids);
    h.flush();
    h.node.propose(Buffer.alloc(60));
    h.node.propose(Buffer.alloc(30));
    expect(() => h.node.propose(Buffer.alloc(20))).toThrow(/uncommitted/);
    // Empty entries are never refused.
    h.node.propose(new Uint8Array(0));
  });

  it('dropped forwarded proposals do not throw on the node that receives them', () => {
    const net = new Network({ seed: 4, voters: ids });
    const l = net.waitForLeader();
    net.stabilize();
    const [a, b] = ids.filter((id) => id !== l);
    net.isolate(b);
    net.raft(l).transferLeadership(b); // blocks proposals on the leader
    net.healPartitions();
    net.filter = (m) => m.type !== MessageType.TimeoutNow && m.type !== MessageType.App;
    net.raft(a).propose(Buffer.from('lost'));
    expect(() => net.stabilize()).not.toThrow();
    expect(net.node(l).appliedData()).toEqual([]);
  });

  it('a single node commits its own proposals after persisting them', () => {
    const net = new Network({ seed: 5, voters: [1n] });
    net.waitForLeader();
    for (let i = 0; i < 5; i++) net.propose(1n, `s${i}`);
    net.stabilize();
    expect(net.node(1n).appliedData()).toEqual(['s0', 's1', 's2', 's3', 's4']);
  });
});
