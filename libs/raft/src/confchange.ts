import { ConfigError } from './errors';
import { Progress, ProgressMap } from './progress';
import { ProgressTracker, TrackerConfig, cloneTrackerConfig, emptyTrackerConfig } from './tracker';
import {
  ConfChange,
  ConfChangeSingle,
  ConfChangeTransition,
  ConfChangeType,
  ConfChangeV2,
  ConfState,
  EMPTY_BYTES,
  maxBig,
} from './types';

/** A single-server change expressed as a (one-change) ConfChangeV2. */
export function confChangeToV2(cc: ConfChange): ConfChangeV2 {
  return {
    transition: ConfChangeTransition.Auto,
    changes: [{ type: cc.type, nodeId: cc.nodeId }],
    context: cc.context,
  };
}

export function isConfChangeV1(cc: ConfChange | ConfChangeV2): cc is ConfChange {
  return (cc as ConfChange).nodeId !== undefined;
}

export function asConfChangeV2(cc: ConfChange | ConfChangeV2): ConfChangeV2 {
  return isConfChangeV1(cc) ? confChangeToV2(cc) : cc;
}

/** An empty V2 change: the instruction to leave a joint configuration. */
export function leaveJointChange(): ConfChangeV2 {
  return { transition: ConfChangeTransition.Auto, changes: [], context: EMPTY_BYTES };
}

export function isLeaveJoint(cc: ConfChangeV2): boolean {
  return cc.transition === ConfChangeTransition.Auto && cc.changes.length === 0;
}

/**
 * Whether the change must go through joint consensus, and if so whether the
 * joint config is left automatically.
 */
export function enterJointOf(cc: ConfChangeV2): { enter: boolean; autoLeave: boolean } {
  if (cc.transition !== ConfChangeTransition.Auto || cc.changes.length > 1) {
    return {
      enter: true,
      autoLeave:
        cc.transition === ConfChangeTransition.Auto || cc.transition === ConfChangeTransition.JointImplicit,
    };
  }
  return { enter: false, autoLeave: false };
}

export interface ChangeResult {
  config: TrackerConfig;
  progress: ProgressMap;
}

/**
 * Computes a new configuration and progress map from the tracker's current
 * ones without modifying them; the caller switches over when it applies.
 */
export class Changer {
  constructor(
    private readonly tracker: ProgressTracker,
    private readonly lastIndex: bigint,
  ) {}

  /** Enters a joint config: the current voters become the outgoing half, the changes apply to the incoming one. */
  enterJoint(autoLeave: boolean, ccs: ConfChangeSingle[]): ChangeResult {
    const { config, progress } = this.checkAndCopy();
    if (config.voters.outgoing.size > 0) throw new ConfigError('config is already joint');
    if (config.voters.incoming.size === 0) throw new ConfigError("can't make a zero-voter config joint");
    config.voters.outgoing = new Set(config.voters.incoming);
    this.apply(config, progress, ccs);
    config.autoLeave = autoLeave;
    return checkAndReturn(config, progress);
  }

  /** Leaves a joint config: drops the outgoing half and turns learnersNext into learners. */
  leaveJoint(): ChangeResult {
    const { config, progress } = this.checkAndCopy();
    if (config.voters.outgoing.size === 0) throw new ConfigError("can't leave a non-joint config");
    for (const id of config.learnersNext) {
      config.learners.add(id);
      const pr = progress.get(id);
      if (pr) pr.isLearner = true;
    }
    config.learnersNext = new Set();
    for (const id of config.voters.outgoing) {
      if (!config.voters.incoming.has(id) && !config.learners.has(id)) progress.delete(id);
    }
    config.voters.outgoing = new Set();
    config.autoLeave = false;
    return checkAndReturn(config, progress);
  }

  /** Applies changes directly; at most one voter may be added or removed this way. */
  simple(ccs: ConfChangeSingle[]): ChangeResult {
    const { config, progress } = this.checkAndCopy();
    if (config.voters.outgoing.size > 0) {
      throw new ConfigError("can't apply simple config change in joint config");
    }
    const before = config.voters.incoming;
    this.apply(config, progress, ccs);
    const after = config.voters.incoming;
    let diff = 0;
    for (const id of before) if (!after.has(id)) diff++;
    for (const id of after) if (!before.has(id)) diff++;
    if (diff > 1) throw new ConfigError('more than one voter changed without entering joint config');
    return checkAndReturn(config, progress);
  }

  private apply(config: TrackerConfig, progress: ProgressMap, ccs: ConfChangeSingle[]): void {
    // `before` in simple() must stay intact: work on a fresh incoming set.
    config.voters.incoming = new Set(config.voters.incoming);
    for (const cc of ccs) {
      if (cc.nodeId === 0n) continue;
      switch (cc.type) {
        case ConfChangeType.AddNode:
          this.makeVoter(config, progress, cc.nodeId);
          break;
        case ConfChangeType.AddLearnerNode:
          this.makeLearner(config, progress, cc.nodeId);
          break;
        case ConfChangeType.RemoveNode:
          this.remove(config, progress, cc.nodeId);
          break;
        case ConfChangeType.UpdateNode:
          break;
        default:
          throw new ConfigError(`unexpected conf type ${String(cc.type)}`);
      }
    }
    if (config.voters.incoming.size === 0) throw new ConfigError('removed all voters');
  }

  private makeVoter(config: TrackerConfig, progress: ProgressMap, id: bigint): void {
    const pr = progress.get(id);
    if (!pr) {
      this.initProgress(config, progress, id, false);
      return;
    }
    pr.isLearner = false;
    config.learners.delete(id);
    config.learnersNext.delete(id);
    config.voters.incoming.add(id);
  }

  private makeLearner(config: TrackerConfig, progress: ProgressMap, id: bigint): void {
    const pr = progress.get(id);
    if (!pr) {
      this.initProgress(config, progress, id, true);
      return;
    }
    if (pr.isLearner) return;
    // Drop it as a voter (keeping its progress), then re-add as a learner.
    this.remove(config, progress, id);
    progress.set(id, pr);
    // A voter of the outgoing config cannot become a learner until the joint
    // config is left; it is staged in learnersNext meanwhile.
    if (config.voters.outgoing.has(id)) {
      config.learnersNext.add(id);
    } else {
      pr.isLearner = true;
      config.learners.add(id);
    }
  }

  private remove(config: TrackerConfig, progress: ProgressMap, id: bigint): void {
    if (!progress.has(id)) return;
    config.voters.incoming.delete(id);
    config.learners.delete(id);
    config.learnersNext.delete(id);
    // Outgoing voters keep their progress until the joint config is left.
    if (!config.voters.outgoing.has(id)) progress.delete(id);
  }

  private initProgress(config: TrackerConfig, progress: ProgressMap, id: bigint, isLearner: boolean): void {
    if (isLearner) config.learners.add(id);
    else config.voters.incoming.add(id);
    // Start probing at the last index: a new node is most likely empty, and
    // it counts as active so that check-quorum does not trip on it right away.
    const pr = this.tracker.newProgress(maxBig(this.lastIndex, 1n), isLearner);
    pr.recentActive = true;
    progress.set(id, pr);
  }

  private checkAndCopy(): ChangeResult {
    const config = cloneTrackerConfig(this.tracker.config);
    const progress: ProgressMap = new Map();
    for (const [id, pr] of this.tracker.progress) progress.set(id, pr.clone());
    return checkAndReturn(config, progress);
  }
}

function checkAndReturn(config: TrackerConfig, progress: ProgressMap): ChangeResult {
  checkInvariants(config, progress);
  return { config, progress };
}

/** Validates the relationships between config and progress; throws ConfigError on a violation. */
export function checkInvariants(config: TrackerConfig, progress: ProgressMap): void {
  const all = [config.voters.incoming, config.voters.outgoing, config.learners, config.learnersNext];
  for (const set of all) {
    for (const id of set) {
      if (!progress.has(id)) throw new ConfigError(`no progress for ${id}`);
    }
  }
  for (const id of config.learnersNext) {
    if (!config.voters.outgoing.has(id)) throw new ConfigError(`${id} is in LearnersNext, but not Voters[1]`);
    if (progress.get(id)!.isLearner)
      throw new ConfigError(`${id} is in LearnersNext, but is already marked as learner`);
  }
  for (const id of config.learners) {
    if (config.voters.outgoing.has(id)) throw new ConfigError(`${id} is in Learners and Voters[1]`);
    if (config.voters.incoming.has(id)) throw new ConfigError(`${id} is in Learners and Voters[0]`);
    if (!progress.get(id)!.isLearner)
      throw new ConfigError(`${id} is in Learners, but is not marked as learner`);
  }
  if (config.voters.outgoing.size === 0) {
    if (config.learnersNext.size > 0) throw new ConfigError('cfg.LearnersNext must be empty when not joint');
    if (config.autoLeave) throw new ConfigError('AutoLeave must be false when not joint');
  }
}

/**
 * Rebuilds the configuration described by a ConfState (from a snapshot or the
 * storage's initial state) by replaying the changes that would produce it.
 */
export function restoreConfig(tracker: ProgressTracker, cs: ConfState, lastIndex: bigint): ChangeResult {
  const outgoing: ConfChangeSingle[] = cs.votersOutgoing.map((id) => ({
    type: ConfChangeType.AddNode,
    nodeId: id,
  }));
  const incoming: ConfChangeSingle[] = [
    ...cs.votersOutgoing.map((id) => ({ type: ConfChangeType.RemoveNode, nodeId: id })),
    ...cs.voters.map((id) => ({ type: ConfChangeType.AddNode, nodeId: id })),
    ...cs.learners.map((id) => ({ type: ConfChangeType.AddLearnerNode, nodeId: id })),
    ...cs.learnersNext.map((id) => ({ type: ConfChangeType.AddLearnerNode, nodeId: id })),
  ];
  const scratch = new ProgressTracker(tracker.maxInflight, tracker.maxInflightBytes);
  scratch.config = emptyTrackerConfig();
  scratch.progress = new Map<bigint, Progress>();
  const step = (r: ChangeResult): void => {
    scratch.config = r.config;
    scratch.progress = r.progress;
  };
  if (outgoing.length === 0) {
    for (const cc of incoming) step(new Changer(scratch, lastIndex).simple([cc]));
  } else {
    // Build the outgoing config first, then enter the joint config from it.
    for (const cc of outgoing) step(new Changer(scratch, lastIndex).simple([cc]));
    step(new Changer(scratch, lastIndex).enterJoint(cs.autoLeave, incoming));
  }
  return { config: scratch.config, progress: scratch.progress };
}
