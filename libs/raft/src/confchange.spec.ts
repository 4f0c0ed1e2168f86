import fc from 'fast-check';
import { Changer, ChangeResult, enterJointOf, isLeaveJoint, restoreConfig } from './confchange';
import { ConfigError } from './errors';
import { ProgressTracker } from './tracker';
import { ConfChangeSingle, ConfChangeTransition, ConfChangeType, ConfState, EMPTY_BYTES } from './types';

const add = (id: number): ConfChangeSingle => ({ type: ConfChangeType.AddNode, nodeId: BigInt(id) });
const learner = (id: number): ConfChangeSingle => ({
  type: ConfChangeType.AddLearnerNode,
  nodeId: BigInt(id),
});
const remove = (id: number): ConfChangeSingle => ({ type: ConfChangeType.RemoveNode, nodeId: BigInt(id) });

function tracker(): ProgressTracker {
  return new ProgressTracker(10, 0);
}

function apply(trk: ProgressTracker, r: ChangeResult): ConfState {
  trk.config = r.config;
  trk.progress = r.progress;
  return trk.confState();
}

const ids = (...n: number[]) => n.map(BigInt);

describe('configuration changes', () => {
  it('adds voters and learners one at a time', () => {
    const trk = tracker();
    expect(apply(trk, new Changer(trk, 10n).simple([add(1)])).voters).toEqual(ids(1));
    expect(apply(trk, new Changer(trk, 10n).simple([add(2)])).voters).toEqual(ids(1, 2));
    const cs = apply(trk, new Changer(trk, 10n).simple([learner(3)]));
    expect(cs).toMatchObject({ voters: ids(1, 2), learners: ids(3) });
    // New members are probed from the last index, and count as active.
    const pr = trk.progress.get(3n)!;
    expect([pr.next, pr.match, pr.isLearner, pr.recentActive]).toEqual([10n, 0n, true, true]);
  });

  it('promotes a learner, keeping its progress', () => {
    const trk = tracker();
    apply(trk, new Changer(trk, 1n).simple([add(1)]));
    apply(trk, new Changer(trk, 1n).simple([learner(2)]));
    trk.progress.get(2n)!.match = 7n;
    const cs = apply(trk, new Changer(trk, 1n).simple([add(2)]));
    expect(cs).toMatchObject({ voters: ids(1, 2), learners: [] });
    expect(trk.progress.get(2n)!.match).toBe(7n);
    expect(trk.progress.get(2n)!.isLearner).toBe(false);
  });

  it('refuses to change more than one voter without joint consensus', () => {
    const trk = tracker();
    apply(trk, new Changer(trk, 1n).simple([add(1)]));
    expect(() => new Changer(trk, 1n).simple([add(2), add(3)])).toThrow(ConfigError);
    // Several learner changes plus one voter change are fine.
    const cs = apply(trk, new Changer(trk, 1n).simple([add(2), learner(3), learner(4)]));
    expect(cs).toMatchObject({ voters: ids(1, 2), learners: ids(3, 4) });
  });

  it('refuses to remove all voters', () => {
    const trk = tracker();
    apply(trk, new Changer(trk, 1n).simple([add(1)]));
    expect(() => new Changer(trk, 1n).simple([remove(1)])).toThrow(/removed all voters/);
  });

  it('ignores removing an unknown node and updates', () => {
    const trk = tracker();
    apply(trk, new Changer(trk, 1n).simple([add(1)]));
    const cs = apply(
      trk,
      new Changer(trk, 1n).simple([remove(9), { type: ConfChangeType.UpdateNode, nodeId: 1n }]),
    );
    expect(cs.voters).toEqual(ids(1));
  });

  it('enters and leaves a joint configuration', () => {
    const trk = tracker();
    for (const id of [1, 2, 3]) apply(trk, new Changer(trk, 1n).simple([add(id)]));
    // Replace 3 by 4 and demote 2 to learner, in one step.
    let cs = apply(trk, new Changer(trk, 1n).enterJoint(true, [add(4), remove(3), learner(2)]));
    expect(cs).toEqual({
      voters: ids(1, 4),
      votersOutgoing: ids(1, 2, 3),
      learners: [],
      learnersNext: ids(2),
      autoLeave: true,
    });
    // 3 is still tracked: it votes in the outgoing half.
    expect(trk.progress.has(3n)).toBe(true);
    expect(() => new Changer(trk, 1n).enterJoint(false, [add(5)])).toThrow(/already joint/);
    expect(() => new Changer(trk, 1n).simple([add(5)])).toThrow(/in joint config/);
    cs = apply(trk, new Changer(trk, 1n).leaveJoint());
    expect(cs).toEqual({
      voters: ids(1, 4),
      votersOutgoing: [],
      learners: ids(2),
      learnersNext: [],
      autoLeave: false,
    });
    expect(trk.progress.has(3n)).toBe(false);
    expect(trk.progress.get(2n)!.isLearner).toBe(true);
    expect(() => new Changer(trk, 1n).leaveJoint()).toThrow(/non-joint/);
  });

  it('classifies V2 changes', () => {
    const v2 = (transition: ConfChangeTransition, changes: ConfChangeSingle[]) => ({
      transition,
      changes,
      context: EMPTY_BYTES,
    });
    expect(enterJointOf(v2(ConfChangeTransition.Auto, [add(1)]))).toEqual({ enter: false, autoLeave: false });
    expect(enterJointOf(v2(ConfChangeTransition.Auto, [add(1), add(2)]))).toEqual({
      enter: true,
      autoLeave: true,
    });
    expect(enterJointOf(v2(ConfChangeTransition.JointImplicit, [add(1)]))).toEqual({
      enter: true,
      autoLeave: true,
    });
    expect(enterJointOf(v2(ConfChangeTransition.JointExplicit, [add(1)]))).toEqual({
      enter: true,
      autoLeave: false,
    });
    expect(isLeaveJoint(v2(ConfChangeTransition.Auto, []))).toBe(true);
    expect(isLeaveJoint(v2(ConfChangeTransition.JointExplicit, []))).toBe(false);
  });

  it('restores any reachable configuration from its ConfState', () => {
    // Random sequences of valid changes; restoring the resulting ConfState
    // must give the same configuration.
    const step = fc.record({
      joint: fc.boolean(),
      changes: fc.array(
        fc.record({
          t: fc.constantFrom(
            ConfChangeType.AddNode,
            ConfChangeType.AddLearnerNode,
            ConfChangeType.RemoveNode,
          ),
          id: fc.integer({ min: 1, max: 6 }),
        }),
        { minLength: 1, maxLength: 3 },
      ),
      leave: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 8 }), (steps) => {
        const trk = tracker();
        apply(trk, new Changer(trk, 5n).simple([add(1)]));
        for (const s of steps) {
          const ccs = s.changes.map((c) => ({ type: c.t, nodeId: BigInt(c.id) }));
          try {
            if (trk.isJoint()) {
              if (s.leave) apply(trk, new Changer(trk, 5n).leaveJoint());
            } else if (s.joint) {
              apply(trk, new Changer(trk, 5n).enterJoint(s.leave, ccs));
            } else {
              apply(trk, new Changer(trk, 5n).simple(ccs));
            }
          } catch (e) {
            if (!(e instanceof ConfigError)) throw e;
          }
          const cs = trk.confState();
          const restored = restoreConfig(tracker(), cs, 5n);
          const t2 = tracker();
          expect(apply(t2, restored)).toEqual(cs);
          expect([...t2.progress.keys()].sort()).toEqual([...trk.progress.keys()].sort());
          for (const [id, pr] of t2.progress) expect(pr.isLearner).toBe(trk.progress.get(id)!.isLearner);
        }
      }),
      { numRuns: 300 },
    );
  });
});
