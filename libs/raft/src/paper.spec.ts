// Classic scenarios from the Raft paper and thesis, replayed on the simulator.
import { Harness, forceLeader, msg, storageWith } from './testing/helpers';
import { Network } from './testing/network';
import { ConfChangeType, EMPTY_BYTES, MessageType, StateType } from './types';

const five = [1n, 2n, 3n, 4n, 5n];

/** Campaigns until the node wins (it may first need to learn a higher term). */
function elect(net: Network, id: bigint): void {
  for (let i = 0; i < 5 && net.raft(id).raft.state !== StateType.Leader; i++) {
    net.raft(id).campaign();
    net.stabilize();
  }
  if (net.raft(id).raft.state !== StateType.Leader) {
    throw new Error(
      `${id} not elected: ${[...net.nodes.values()].map((sn) => (sn.node ? `${sn.id}:${sn.node.raft.state}/t${sn.node.raft.term}/v${sn.node.raft.vote}/last${sn.node.raft.raftLog.lastIndex()}` : `${sn.id}:down`)).join(' ')}`,
    );
  }
}

describe('Raft paper scenarios', () => {
  describe('Figure 8: a leader never commits an entry of an earlier term by counting replicas', () => {
    it('keeps a replicated old-term entry uncommitted until an entry of its own term commits', () => {
      // Log (index 2, 3) with term 2; the node campaigns into term 3 and appends a no-op at 4.
      const h = new Harness(storageWith(five, [2, 2]), { id: 1n });
      forceLeader(h, five);
      h.flush();
      const term = h.raft.term;
      expect(h.raft.raftLog.lastIndex()).toBe(4n);
      const ack = (from: bigint, index: bigint) =>
        h.deliver(msg({ type: MessageType.AppResp, from, to: 1n, term, index }));
      // A majority (1, 2, 3) stores index 3, but it is from term 2: no commit.
      ack(2n, 3n);
      ack(3n, 3n);
      expect(h.raft.raftLog.committed).toBe(1n);
      // Index 4 (term 3) on a majority commits it, and index 3 with it.
      ack(2n, 4n);
      expect(h.raft.raftLog.committed).toBe(1n);
      ack(3n, 4n);
      expect(h.raft.raftLog.committed).toBe(4n);
    });

    it('lets a later leader overwrite such an entry, and never applies it', () => {
      // One entry per append, so entries of different terms travel separately.
      const net = new Network({ seed: 1, voters: five, raft: { electionTick: 1000, maxSizePerMsg: 1 } });
      elect(net, 1n);
      net.stabilize();
      // (a) S1 (term 2) replicates "x" to S2 only.
      net.partition([
        [1n, 2n],
        [3n, 4n, 5n],
      ]);
      net.propose(1n, 'x');
      net.stabilize();
      expect(net.raft(2n).raft.raftLog.lastIndex()).toBe(net.raft(1n).raft.raftLog.lastIndex());
      // (b) S1 crashes; S5 wins term 3 with S3 and S4; its entries (the
      //     no-op, then "y") stay on S5 alone.
      net.crash(1n);
      net.filter = (m) => !(m.from === 5n && m.type === MessageType.App);
      elect(net, 5n);
      net.isolate(5n);
      net.filter = undefined;
      net.propose(5n, 'y');
      net.stabilize();
      // (c) S5 crashes; S1 restarts and wins term 4 with S2 and S3. It
      //     replicates "x" (term 2) to S3 -- now on a majority -- but crashes
      //     before its own no-op (term 4) gets anywhere.
      net.crash(5n);
      net.restart(1n);
      net.partition([[1n, 2n, 3n], [4n], [5n]]);
      net.filter = (m) => {
        // The network loses every entry of term 4 (the rest of each append gets through).
        if (m.from === 1n && m.type === MessageType.App) m.entries = m.entries.filter((e) => e.term < 4n);
        return true;
      };
      elect(net, 1n);
      expect(net.raft(1n).raft.term).toBe(4n);
      net.stabilize();
      const xIndex = 3n;
      for (const id of [1n, 2n, 3n]) expect(net.raft(id).raft.raftLog.termOrZero(xIndex)).toBe(2n);
      expect(net.raft(1n).raft.raftLog.committed).toBeLessThan(xIndex);
      net.crash(1n);
      net.filter = undefined;
      // (d) S5 comes back and wins with S2, S3, S4: its "y" replaces "x" everywhere.
      net.restart(5n);
      net.partition([[2n, 3n, 4n, 5n], [1n]]);
      elect(net, 5n);
      net.stabilize();
      net.restart(1n);
      net.healPartitions();
      net.tick(5);
      net.stabilize();
      for (const sn of net.nodes.values()) {
        expect(sn.appliedData()).toEqual(['y']);
      }
    });

    it('once an entry of the current term commits, no stale leader can be elected', () => {
      const net = new Network({ seed: 2, voters: five, raft: { electionTick: 1000 } });
      elect(net, 1n);
      net.partition([
        [1n, 2n],
        [3n, 4n, 5n],
      ]);
      net.propose(1n, 'x');
      net.stabilize();
      net.crash(1n);
      net.filter = (m) => !(m.from === 5n && m.type === MessageType.App);
      elect(net, 5n);
      net.isolate(5n);
      net.filter = undefined;
      net.propose(5n, 'y');
      net.stabilize();
      net.crash(5n);
      net.restart(1n);
      net.partition([[1n, 2n, 3n], [4n], [5n]]);
      elect(net, 1n);
      net.stabilize();
      // S1's no-op of term 4 is on S1, S2, S3: "x" is committed.
      expect(net.node(1n).appliedData()).toEqual(['x']);
      net.crash(1n);
      net.restart(5n);
      net.partition([[2n, 3n, 4n, 5n], [1n]]);
      // S5's log (last term 3) is behind S2 and S3 (term 4): it cannot win.
      for (let i = 0; i < 3; i++) {
        net.raft(5n).campaign();
        net.stabilize();
        expect(net.raft(5n).raft.state).not.toBe(StateType.Leader);
      }
      elect(net, 2n);
      net.stabilize();
      for (const id of [2n, 3n, 4n, 5n]) expect(net.node(id).appliedData()).toEqual(['x']);
    });
  });

  it('a leader isolated in the minority cannot commit; the majority moves on; logs converge after healing', () => {
    const net = new Network({ seed: 3, voters: five });
    const old = net.waitForLeader();
    net.stabilize();
    const others = five.filter((id) => id !== old);
    net.partition([[old, others[0]], others.slice(1)]);
    for (let i = 0; i < 3; i++) net.propose(old, `stale${i}`);
    net.tick(40);
    const fresh = net.waitForLeader();
    expect(others.slice(1)).toContain(fresh);
    for (let i = 0; i < 3; i++) net.propose(fresh, `fresh${i}`);
    net.tick(5);
    expect(net.node(old).appliedData()).toEqual([]);
    // The old leader still believes it leads (no check-quorum), but commits nothing.
    expect(net.raft(old).raft.state).toBe(StateType.Leader);
    net.healPartitions();
    net.tick(10);
    net.stabilize();
    expect(net.raft(old).raft.state).toBe(StateType.Follower);
    for (const sn of net.nodes.values()) expect(sn.appliedData()).toEqual(['fresh0', 'fresh1', 'fresh2']);
    net.checker.checkLogsMatch();
  });

  it('a partitioned node rejoining does not disrupt the cluster under pre-vote (and does without it)', () => {
    const run = (preVote: boolean) => {
      const net = new Network({ seed: 4, voters: five, raft: { preVote } });
      const l = net.waitForLeader();
      net.stabilize();
      const lone = five.find((id) => id !== l)!;
      const term = net.raft(l).raft.term;
      net.isolate(lone);
      net.tick(100);
      net.healPartitions();
      net.tick(30);
      return {
        loneTerm: net.raft(lone).raft.term,
        term,
        stillLeader: net.leaderId() === l && net.raft(l).raft.term === term,
      };
    };
    const withPreVote = run(true);
    expect(withPreVote.loneTerm).toBe(withPreVote.term);
    expect(withPreVote.stillLeader).toBe(true);
    const without = run(false);
    expect(without.loneTerm).toBeGreaterThan(without.term);
    expect(without.stillLeader).toBe(false);
  });

  it('a follower far behind catches up through a snapshot while the cluster keeps working', () => {
    const net = new Network({ seed: 5, voters: five, compactEvery: 8 });
    const l = net.waitForLeader();
    const lagging = five.find((id) => id !== l)!;
    net.isolate(lagging);
    for (let i = 0; i < 100; i++) {
      net.propose(l, `v${i}`);
      if (i % 10 === 0) net.tick();
    }
    net.tick(5);
    net.healPartitions();
    for (let i = 100; i < 110; i++) {
      net.propose(l, `v${i}`);
      net.tick();
    }
    net.tick(10);
    expect(net.stats.snapshotsSent).toBeGreaterThan(0);
    expect(net.node(lagging).appliedIndex).toBe(net.node(l).appliedIndex);
    expect(net.node(lagging).digest).toBe(net.node(l).digest);
  });

  it('removing the leader of a 5-node cluster under load', () => {
    const net = new Network({ seed: 6, voters: five });
    const l = net.waitForLeader();
    net
      .raft(l)
      .proposeConfChange({ type: ConfChangeType.RemoveNode, nodeId: l, context: EMPTY_BYTES, id: 0n });
    let accepted = 0;
    for (let i = 0; i < 40; i++) {
      const cur = net.leaderId();
      if (cur !== undefined && cur !== l && net.propose(cur, `w${i}`)) accepted++;
      net.tick();
    }
    net.crash(l);
    net.tick(5);
    const l2 = net.waitForLeader();
    expect(l2).not.toBe(l);
    expect(net.node(l2).confState.voters).toEqual(five.filter((id) => id !== l));
    expect(accepted).toBeGreaterThan(20);
    net.tick(5);
    for (const id of five.filter((x) => x !== l)) {
      expect(net.node(id).appliedData().length).toBe(accepted);
    }
  });

  it('reads during a partition see every write acknowledged before them', () => {
    const net = new Network({ seed: 7, voters: five });
    const old = net.waitForLeader();
    net.stabilize();
    const others = five.filter((id) => id !== old);
    net.partition([[old, others[0]], others.slice(1)]);
    net.raft(old).readIndex(Buffer.from('minority'));
    net.tick(30);
    const fresh = net.waitForLeader();
    net.propose(fresh, 'w1');
    net.tick(3);
    const committed = net.raft(fresh).raft.raftLog.committed;
    expect(net.node(fresh).appliedData()).toEqual(['w1']);
    // A read anywhere in the majority returns an index covering w1.
    const reader = others.slice(1).find((id) => id !== fresh)!;
    net.checker.registerRead(Buffer.from('majority'));
    net.raft(reader).readIndex(Buffer.from('majority'));
    net.tick(3);
    expect(net.node(reader).readStates.map((r) => Buffer.from(r.requestCtx).toString())).toEqual([
      'majority',
    ]);
    expect(net.node(reader).readStates[0].index).toBeGreaterThanOrEqual(committed);
    expect(net.node(old).readStates).toEqual([]);
  });
});
