// The simulator and its invariant checker must themselves be trustworthy:
// faults must happen, and violations must be caught.
import { InvariantViolation } from './testing/invariants';
import { Network } from './testing/network';
import { healAndCommit, runSchedule } from './testing/schedule';
import { entry } from './testing/helpers';
import { StateType } from './types';

const ids = [1n, 2n, 3n];

describe('network simulator', () => {
  it('is deterministic for a given seed', () => {
    const run = () => {
      const net = new Network({ seed: 42, voters: ids });
      net.faults = {
        dropRate: 0.1,
        duplicateRate: 0.1,
        maxDelay: 5,
        splitReadyRate: 0.3,
        reportUnreachableRate: 0.5,
      };
      const l = net.waitForLeader();
      for (let i = 0; i < 20; i++) {
        net.propose(net.leaderId() ?? l, `v${i}`);
        net.tick();
      }
      return {
        stats: { ...net.stats },
        digests: [...net.nodes.values()].map((sn) => [sn.appliedIndex, sn.digest]),
      };
    };
    expect(run()).toEqual(run());
  });

  it('drops, duplicates and delays messages, and Raft still converges', () => {
    const net = new Network({ seed: 1, voters: ids });
    net.faults = {
      dropRate: 0.2,
      duplicateRate: 0.3,
      maxDelay: 10,
      splitReadyRate: 0.5,
      reportUnreachableRate: 0.5,
    };
    for (let i = 0; i < 30; i++) {
      const l = net.leaderId();
      if (l !== undefined) net.propose(l, `v${i}`);
      net.tick(2);
    }
    expect(net.stats.dropped).toBeGreaterThan(0);
    expect(net.stats.duplicated).toBeGreaterThan(0);
    net.faults = { dropRate: 0, duplicateRate: 0, maxDelay: 0, splitReadyRate: 0, reportUnreachableRate: 0 };
    net.tick(30);
    const l = net.waitForLeader();
    net.propose(l, 'final');
    net.tick(5);
    const applied = [...net.nodes.values()].map((sn) => sn.appliedData());
    expect(applied[0]).toContain('final');
    expect(applied[1]).toEqual(applied[0]);
    expect(applied[2]).toEqual(applied[0]);
  });

  it('elects no one when every message is lost', () => {
    const net = new Network({ seed: 2, voters: ids });
    net.faults = { dropRate: 1, duplicateRate: 0, maxDelay: 0, splitReadyRate: 0, reportUnreachableRate: 0 };
    net.tick(100);
    expect(net.leaderId()).toBeUndefined();
  });

  it('a crash loses what was not yet persisted, but not what was', () => {
    const net = new Network({ seed: 3, voters: ids });
    const l = net.waitForLeader();
    net.stabilize();
    const before = net.node(l).storage.lastIndex();
    // The leader's next Ready is split: its appends leave, its own write does not happen yet.
    net.faults = { dropRate: 0, duplicateRate: 0, maxDelay: 50, splitReadyRate: 1, reportUnreachableRate: 0 };
    net.propose(l, 'unpersisted');
    net.processReady(net.node(l), true);
    expect(net.node(l).pending?.entries.length).toBe(1);
    net.crash(l);
    net.restart(l);
    expect(net.node(l).storage.lastIndex()).toBe(before);
    expect(net.raft(l).raft.raftLog.lastIndex()).toBe(before);
  });

  it('restarts a node with its term, vote and log', () => {
    const net = new Network({ seed: 4, voters: ids });
    const l = net.waitForLeader();
    net.propose(l, 'a');
    net.stabilize();
    const f = ids.find((id) => id !== l)!;
    const { term, vote } = net.raft(f).raft;
    const last = net.raft(f).raft.raftLog.lastIndex();
    net.crash(f);
    net.restart(f);
    expect([net.raft(f).raft.term, net.raft(f).raft.vote, net.raft(f).raft.raftLog.lastIndex()]).toEqual([
      term,
      vote,
      last,
    ]);
    net.stabilize();
    expect(net.node(f).appliedData()).toEqual(['a']);
  });

  it('routes messages through the protobuf codec when asked', () => {
    const net = new Network({ seed: 5, voters: ids, encode: true, compactEvery: 3 });
    const l = net.waitForLeader();
    for (let i = 0; i < 10; i++) net.propose(l, `c${i}`);
    net.stabilize();
    for (const id of ids) expect(net.node(id).appliedData()).toHaveLength(10);
  });
});

describe('invariant checker', () => {
  it('catches two leaders in one term', () => {
    const net = new Network({ seed: 6, voters: ids });
    const l = net.waitForLeader();
    const f = ids.find((id) => id !== l)!;
    const r = net.raft(f).raft;
    r.term = net.raft(l).raft.term;
    r.state = StateType.Leader;
    expect(() => net.checker.checkStep()).toThrow(/two leaders in term/);
  });

  it('catches two different entries with the same index and term, and broken log matching', () => {
    const net = new Network({ seed: 7, voters: ids });
    net.checker.onPersistEntries(net.node(1n), [entry(2, 5, 'a'), entry(3, 5, 'b')]);
    expect(() => net.checker.onPersistEntries(net.node(2n), [entry(3, 5, 'c')])).toThrow(InvariantViolation);
    // Same entry, but preceded by a different term.
    net.node(3n).storage.append([entry(2, 4)]);
    expect(() => net.checker.onPersistEntries(net.node(3n), [entry(3, 5, 'b')])).toThrow(/log matching/);
  });

  it('catches nodes applying different entries at one index', () => {
    const net = new Network({ seed: 8, voters: ids });
    net.checker.onApply(net.node(1n), entry(5, 2, 'x'));
    expect(() => net.checker.onApply(net.node(2n), entry(5, 2, 'y'))).toThrow(/different entry/);
  });

  it('catches a leader missing committed entries', () => {
    const net = new Network({ seed: 9, voters: ids });
    const l = net.waitForLeader();
    net.checker.onApply(net.node(1n), entry(50, 1, 'future'));
    expect(() => net.checker.checkLeaderCompleteness(net.node(l))).toThrow(/lacks committed entries/);
  });

  it('catches stale reads', () => {
    const net = new Network({ seed: 10, voters: ids });
    const l = net.waitForLeader();
    net.stabilize();
    const ctx = Buffer.from('r');
    net.checker.registerRead(ctx);
    expect(() => net.checker.onReadState(net.node(l), { index: 0n, requestCtx: ctx })).toThrow(/stale read/);
  });

  it('reports liveness failures with the cluster state', () => {
    // A 2-node cluster with one member down for good cannot make progress.
    const cfg = {
      seed: 1,
      voters: 2,
      learners: 0,
      preVote: false,
      checkQuorum: false,
      encode: false,
      compactEvery: 0,
      maxInflight: 4,
      maxSizePerMsg: 4096,
    };
    const { net } = runSchedule(cfg, [{ k: 'tick', n: 30 }]);
    expect(net.leaderId()).toBeDefined();
    const orig = net.restart.bind(net);
    net.restart = () => undefined;
    net.crash(net.leaderId() === 1n ? 2n : 1n);
    expect(() => healAndCommit(net, 50)).toThrow(/liveness/);
    net.restart = orig;
  });
});
