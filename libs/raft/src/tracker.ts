import { Inflights } from './inflights';
import { Progress, ProgressMap } from './progress';
import { JointConfig, VoteResult, jointCommittedIndex, jointIds, jointVoteResult, sortedIds } from './quorum';
import { ConfState } from './types';

/** The membership: voters (possibly joint), learners, and learners-to-be. */
export interface TrackerConfig {
  voters: JointConfig;
  /** Set when the joint config should be left as soon as possible. */
  autoLeave: boolean;
  learners: Set<bigint>;
  /**
   * Outgoing voters that become learners when the joint config is left (a
   * node cannot be a voter and a learner at the same time).
   */
  learnersNext: Set<bigint>;
}

export function emptyTrackerConfig(): TrackerConfig {
  return {
    voters: { incoming: new Set(), outgoing: new Set() },
    autoLeave: false,
    learners: new Set(),
    learnersNext: new Set(),
  };
}

export function cloneTrackerConfig(c: TrackerConfig): TrackerConfig {
  return {
    voters: { incoming: new Set(c.voters.incoming), outgoing: new Set(c.voters.outgoing) },
    autoLeave: c.autoLeave,
    learners: new Set(c.learners),
    learnersNext: new Set(c.learnersNext),
  };
}

export function configToString(c: TrackerConfig): string {
  const list = (s: Set<bigint>): string => sortedIds(s).join(' ');
  let out = `voters=(${list(c.voters.incoming)})`;
  if (c.voters.outgoing.size > 0) out += `&&(${list(c.voters.outgoing)})`;
  if (c.learners.size > 0) out += ` learners=(${list(c.learners)})`;
  if (c.learnersNext.size > 0) out += ` learners_next=(${list(c.learnersNext)})`;
  if (c.autoLeave) out += ' autoleave';
  return out;
}

/** Configuration, per-member progress and the votes of the current election. */
export class ProgressTracker {
  config: TrackerConfig = emptyTrackerConfig();
  progress: ProgressMap = new Map();
  votes = new Map<bigint, boolean>();

  constructor(
    readonly maxInflight: number,
    readonly maxInflightBytes: number,
  ) {}

  newInflights(): Inflights {
    return new Inflights(this.maxInflight, this.maxInflightBytes);
  }

  confState(): ConfState {
    return {
      voters: sortedIds(this.config.voters.incoming),
      votersOutgoing: sortedIds(this.config.voters.outgoing),
      learners: sortedIds(this.config.learners),
      learnersNext: sortedIds(this.config.learnersNext),
      autoLeave: this.config.autoLeave,
    };
  }

  isJoint(): boolean {
    return this.config.voters.outgoing.size > 0;
  }

  /** A single voter and no joint config: that voter decides alone. */
  isSingleton(): boolean {
    return this.config.voters.incoming.size === 1 && this.config.voters.outgoing.size === 0;
  }

  /** The largest index replicated on a quorum. */
  committed(): bigint {
    const prs = this.progress;
    return jointCommittedIndex(this.config.voters, (id) => prs.get(id)?.match);
  }

  /** Whether a quorum of voters was heard from recently (the leader counts as active). */
  quorumActive(): boolean {
    const votes = new Map<bigint, boolean>();
    for (const [id, pr] of this.progress) {
      if (!pr.isLearner) votes.set(id, pr.recentActive);
    }
    return jointVoteResult(this.config.voters, votes) === VoteResult.Won;
  }

  isVoter(id: bigint): boolean {
    return this.config.voters.incoming.has(id) || this.config.voters.outgoing.has(id);
  }

  voterNodes(): bigint[] {
    return sortedIds(jointIds(this.config.voters));
  }

  learnerNodes(): bigint[] {
    return sortedIds(this.config.learners);
  }

  resetVotes(): void {
    this.votes = new Map();
  }

  /** Records a vote; only the first vote from each node counts. */
  recordVote(id: bigint, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const [id, pr] of this.progress) {
      if (pr.isLearner) continue;
      const v = this.votes.get(id);
      if (v === undefined) continue;
      if (v) granted++;
      else rejected++;
    }
    return { granted, rejected, result: jointVoteResult(this.config.voters, this.votes) };
  }

  /** Whether the acknowledgements (e.g. of a ReadIndex heartbeat round) form a quorum. */
  tallyAcks(acks: ReadonlyMap<bigint, boolean>): VoteResult {
    return jointVoteResult(this.config.voters, acks);
  }

  newProgress(next: bigint, isLearner: boolean): Progress {
    const p = new Progress(this.newInflights());
    p.next = next;
    p.isLearner = isLearner;
    return p;
  }
}
