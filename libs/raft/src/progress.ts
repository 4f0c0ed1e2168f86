import { Inflights } from './inflights';
import { maxBig, minBig } from './types';

export enum ProgressState {
  /** Unknown match: send one append at a time and wait for the answer. */
  Probe = 0,
  /** Known match: stream appends optimistically, bounded by the inflight window. */
  Replicate = 1,
  /** The follower needs a snapshot; appends pause until it reports back. */
  Snapshot = 2,
}

/** What the leader knows about one follower's log. */
export class Progress {
  match = 0n;
  next = 1n;
  state = ProgressState.Probe;
  /** Index of the snapshot in flight while in Snapshot state. */
  pendingSnapshot = 0n;
  /** Heard from since the last check-quorum round (or the leader itself). */
  recentActive = false;
  /** In Probe state: an append was sent and the answer has not come back. */
  msgAppFlowPaused = false;
  isLearner = false;

  constructor(public inflights: Inflights) {}

  /** A copy sharing nothing mutable but the inflight window (configuration changes replace the map). */
  clone(): Progress {
    const p = new Progress(this.inflights);
    p.match = this.match;
    p.next = this.next;
    p.state = this.state;
    p.pendingSnapshot = this.pendingSnapshot;
    p.recentActive = this.recentActive;
    p.msgAppFlowPaused = this.msgAppFlowPaused;
    p.isLearner = this.isLearner;
    return p;
  }

  private resetState(state: ProgressState): void {
    this.msgAppFlowPaused = false;
    this.pendingSnapshot = 0n;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    if (this.state === ProgressState.Snapshot) {
      // If the snapshot was applied, the follower is at least at its index.
      const pending = this.pendingSnapshot;
      this.resetState(ProgressState.Probe);
      this.next = maxBig(this.match + 1n, pending + 1n);
    } else {
      this.resetState(ProgressState.Probe);
      this.next = this.match + 1n;
    }
  }

  becomeReplicate(): void {
    this.resetState(ProgressState.Replicate);
    this.next = this.match + 1n;
  }

  becomeSnapshot(snapshotIndex: bigint): void {
    this.resetState(ProgressState.Snapshot);
    this.pendingSnapshot = snapshotIndex;
    this.next = snapshotIndex + 1n;
  }

  /** Records that an append with `count` entries (ending at next+count-1) was sent. */
  sentEntries(count: number, bytes: number): void {
    if (this.state === ProgressState.Replicate) {
      if (count > 0) {
        const last = this.next + BigInt(count) - 1n;
        this.next = last + 1n;
        this.inflights.add(last, bytes);
      }
    } else if (this.state === ProgressState.Probe) {
      this.msgAppFlowPaused = true;
    } else {
      throw new Error(`sending append in unhandled state ${ProgressState[this.state]}`);
    }
  }

  /** The follower acknowledged index n; false if that is old news. */
  maybeUpdate(n: bigint): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.msgAppFlowPaused = false;
    }
    if (this.next < n + 1n) this.next = n + 1n;
    return updated;
  }

  /**
   * The follower rejected an append at `rejected`; matchHint is the highest
   * index it may match. Returns false if the rejection is stale.
   */
  maybeDecrTo(rejected: bigint, matchHint: bigint): boolean {
    if (this.state === ProgressState.Replicate) {
      // Rejections at or below match are duplicates of old messages.
      if (rejected <= this.match) return false;
      this.next = this.match + 1n;
      return true;
    }
    // In probe state only the answer to the last probe counts.
    if (this.next - 1n !== rejected) return false;
    this.next = maxBig(minBig(rejected, matchHint + 1n), this.match + 1n);
    this.msgAppFlowPaused = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case ProgressState.Probe:
        return this.msgAppFlowPaused;
      case ProgressState.Replicate:
        return this.inflights.full();
      default:
        return true;
    }
  }

  toString(): string {
    let s = `${ProgressState[this.state]} match=${this.match} next=${this.next}`;
    if (this.isLearner) s += ' learner';
    if (this.msgAppFlowPaused) s += ' paused';
    if (this.pendingSnapshot > 0n) s += ` pendingSnap=${this.pendingSnapshot}`;
    if (!this.recentActive) s += ' inactive';
    if (this.inflights.size() > 0) s += ` inflight=${this.inflights.size()}`;
    return s;
  }
}

export type ProgressMap = Map<bigint, Progress>;
