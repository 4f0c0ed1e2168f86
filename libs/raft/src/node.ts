import { encodeConfChange, encodeConfChangeV2 } from './codec';
import { asConfChangeV2, isConfChangeV1 } from './confchange';
import { ProposalDroppedError, StepLocalMessageError } from './errors';
import { ProgressState } from './progress';
import { Raft, RaftConfig } from './raft';
import { MemoryStorage } from './storage';
import {
  ConfChange,
  ConfChangeV2,
  ConfState,
  EMPTY_BYTES,
  Entry,
  EntryType,
  HardState,
  Message,
  MessageType,
  NONE,
  ReadState,
  Snapshot,
  SnapshotStatus,
  SoftState,
  StateType,
  emptyConfState,
  hardStateEqual,
  isEmptyHardState,
  isLocalMessage,
  makeMessage,
} from './types';

/**
 * Everything the driver must do after the node changed, as one batch. Handle
 * it in this order:
 *  1. send `messages` (they do not depend on local durability);
 *  2. persist `snapshot` (if any), `entries` and `hardState` (fsync if `mustSync`);
 *  3. send `messagesAfterPersist`;
 *  4. apply `committedEntries` (calling applyConfChange for conf change entries)
 *     and serve `readStates` once their index is applied;
 *  5. call advance().
 */
export interface Ready {
  /** Leader or role changed (informational; never persisted). */
  softState?: SoftState;
  /** Term, vote or commit changed; persist it with the entries. */
  hardState?: HardState;
  /** Answers to ReadIndex requests made on this node. */
  readStates: ReadState[];
  /** Entries to append to stable storage (may overwrite a conflicting suffix). */
  entries: Entry[];
  /** A snapshot from the leader to install before anything else. */
  snapshot?: Snapshot;
  /** Entries committed and ready to apply, in order. May include entries of `entries`: persist first. */
  committedEntries: Entry[];
  /** Messages that may be sent right away, in parallel with persisting. */
  messages: Message[];
  /** Messages that must not leave before `entries`, `hardState` and `snapshot` are durable. */
  messagesAfterPersist: Message[];
  /** Whether the write needs an fsync (new entries, or a new term or vote). */
  mustSync: boolean;
}

export interface ProgressStatus {
  match: bigint;
  next: bigint;
  state: ProgressState;
  isLearner: boolean;
  recentActive: boolean;
  paused: boolean;
  inflight: number;
}

export interface Status {
  id: bigint;
  hardState: HardState;
  softState: SoftState;
  applied: bigint;
  leadTransferee: bigint;
  config: ConfState;
  /** Per-member replication progress, only on the leader. */
  progress?: Map<bigint, ProgressStatus>;
}

/**
 * The Ready/Advance wrapper around the Raft state machine: the API a driver
 * uses. It is synchronous and single-threaded; the driver owns time (tick),
 * I/O and the apply loop. Messages may be stepped while a Ready is being
 * handled; they go into the next one.
 */
export class RaftNode {
  /** The underlying state machine (exposed for diagnostics and tests). */
  readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  private inProgress: { ready: Ready; selfMessages: Message[] } | undefined;

  constructor(config: RaftConfig) {
    this.raft = new Raft(config);
    this.prevSoftState = this.raft.softState();
    this.prevHardState = this.raft.hardState();
  }

  get id(): bigint {
    return this.raft.id;
  }

  /** Advances logical time by one tick (elections, heartbeats, check-quorum). */
  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (a pre-vote first if enabled). */
  campaign(): void {
    this.raft.step(makeMessage({ type: MessageType.Hup, from: this.raft.id }));
  }

  /** Proposes one entry. Throws ProposalDroppedError if it cannot be proposed. */
  propose(data: Uint8Array): void {
    this.proposeEntries([{ term: 0n, index: 0n, type: EntryType.Normal, data }]);
  }

  /** Proposes several entries in one message (one append and broadcast). */
  proposeBatch(datas: readonly Uint8Array[]): void {
    if (datas.length === 0) return;
    const ents: Entry[] = new Array<Entry>(datas.length);
    for (let i = 0; i < datas.length; i++)
      ents[i] = { term: 0n, index: 0n, type: EntryType.Normal, data: datas[i] };
    this.proposeEntries(ents);
  }

  private proposeEntries(entries: Entry[]): void {
    this.raft.step(makeMessage({ type: MessageType.Prop, from: this.raft.id, entries }));
  }

  /**
   * Proposes a membership change. A ConfChange is a single-server change; a
   * ConfChangeV2 may carry several changes (joint consensus) or none (leave
   * the joint config). Once the entry is committed, call applyConfChange.
   */
  proposeConfChange(cc: ConfChange | ConfChangeV2): void {
    const entry: Entry = isConfChangeV1(cc)
      ? { term: 0n, index: 0n, type: EntryType.ConfChange, data: encodeConfChange(cc) }
      : { term: 0n, index: 0n, type: EntryType.ConfChangeV2, data: encodeConfChangeV2(cc) };
    this.proposeEntries([entry]);
  }

  /**
   * Applies a committed conf change (decoded from its entry) to the
   * configuration; returns the new ConfState to store with the next snapshot.
   */
  applyConfChange(cc: ConfChange | ConfChangeV2): ConfState {
    return this.raft.applyConfChange(asConfChangeV2(cc));
  }

  /**
   * Steps a message received from a peer. Local message types are refused.
   * A forwarded proposal this node cannot accept is dropped (the proposer
   * times out), since it is not the caller's own request.
   */
  step(m: Message): void {
    if (isLocalMessage(m.type)) throw new StepLocalMessageError();
    try {
      this.raft.step(m);
    } catch (e) {
      if (e instanceof ProposalDroppedError && m.from !== this.raft.id) {
        this.raft.logger.debug(`${this.raft.id} dropped ${MessageType[m.type]} from ${m.from}: ${e.reason}`);
        return;
      }
      throw e;
    }
  }

  /**
   * Requests a read index for `context` (unique per request). The answer
   * arrives as a ReadState in a later Ready; throws ProposalDroppedError if no
   * leader is known.
   */
  readIndex(context: Uint8Array): void {
    this.raft.step(makeMessage({ type: MessageType.ReadIndex, from: this.raft.id, context }));
  }

  /** Asks the leader to hand leadership to `transferee` once it is up to date. */
  transferLeadership(transferee: bigint): void {
    this.raft.step(makeMessage({ type: MessageType.TransferLeader, from: transferee }));
  }

  /** The transport could not deliver to `id`: its replication falls back to probing. */
  reportUnreachable(id: bigint): void {
    this.raft.step(makeMessage({ type: MessageType.Unreachable, from: id }));
  }

  /** Reports the outcome of sending a snapshot (a Ready message of type Snap) to `id`. */
  reportSnapshot(id: bigint, status: SnapshotStatus): void {
    this.raft.step(
      makeMessage({ type: MessageType.SnapStatus, from: id, reject: status === SnapshotStatus.Failure }),
    );
  }

  /** Whether ready() would return something. False while a Ready awaits advance(). */
  hasReady(): boolean {
    if (this.inProgress) return false;
    const r = this.raft;
    if (r.lead !== this.prevSoftState.lead || r.state !== this.prevSoftState.raftState) return true;
    const hs = r.hardState();
    if (!isEmptyHardState(hs) && !hardStateEqual(hs, this.prevHardState)) return true;
    const log = r.raftLog;
    if (log.unstable.snapshot !== undefined) return true;
    if (r.msgs.length > 0 || r.msgsAfterPersist.length > 0) return true;
    if (log.unstable.entries.length > 0) return true;
    if (log.hasNextCommittedEnts(true)) return true;
    if (r.readStates.length > 0 || r.readIndexBroadcastPending) return true;
    return false;
  }

  /** Collects the pending work. The caller must call advance() before the next ready(). */
  ready(): Ready {
    if (this.inProgress) throw new Error('ready() called again before advance()');
    const r = this.raft;
    r.flushReadIndex();
    const log = r.raftLog;
    const rd: Ready = {
      readStates: r.readStates,
      entries: log.unstableEntries(),
      committedEntries: log.nextCommittedEnts(true),
      messages: r.msgs,
      messagesAfterPersist: [],
      mustSync: false,
    };
    const ss = r.softState();
    if (ss.lead !== this.prevSoftState.lead || ss.raftState !== this.prevSoftState.raftState) {
      rd.softState = ss;
      this.prevSoftState = ss;
    }
    const hs = r.hardState();
    if (!hardStateEqual(hs, this.prevHardState)) rd.hardState = hs;
    if (log.unstable.snapshot) rd.snapshot = log.unstable.snapshot;
    const selfMessages: Message[] = [];
    for (const m of r.msgsAfterPersist) {
      if (m.to === r.id) selfMessages.push(m);
      else rd.messagesAfterPersist.push(m);
    }
    rd.mustSync =
      rd.entries.length > 0 ||
      (rd.hardState !== undefined &&
        (rd.hardState.term !== this.prevHardState.term || rd.hardState.vote !== this.prevHardState.vote));
    r.msgs = [];
    r.msgsAfterPersist = [];
    r.readStates = [];
    this.inProgress = { ready: rd, selfMessages };
    return rd;
  }

  /**
   * The last Ready was persisted, sent and applied. Moves the stable and
   * applied cursors, and delivers this node's own responses (its vote and
   * append acknowledgement now count, because they are durable).
   */
  advance(): void {
    const p = this.inProgress;
    if (!p) throw new Error('advance() called without a ready()');
    const rd = p.ready;
    const r = this.raft;
    if (rd.hardState) this.prevHardState = rd.hardState;
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1];
      r.raftLog.stableTo(last.index, last.term);
    }
    if (rd.snapshot) {
      r.raftLog.stableSnapTo(rd.snapshot.metadata.index);
      r.appliedSnap(rd.snapshot.metadata.index);
    }
    this.inProgress = undefined;
    if (rd.committedEntries.length > 0) {
      let size = 0;
      for (const e of rd.committedEntries) size += e.data.length;
      r.appliedTo(rd.committedEntries[rd.committedEntries.length - 1].index, size);
    }
    for (const m of p.selfMessages) r.step(m);
  }

  status(): Status {
    const r = this.raft;
    const st: Status = {
      id: r.id,
      hardState: r.hardState(),
      softState: r.softState(),
      applied: r.raftLog.applied,
      leadTransferee: r.leadTransferee,
      config: r.trk.confState(),
    };
    if (r.state === StateType.Leader) {
      st.progress = new Map();
      for (const [id, pr] of r.trk.progress) {
        st.progress.set(id, {
          match: pr.match,
          next: pr.next,
          state: pr.state,
          isLearner: pr.isLearner,
          recentActive: pr.recentActive,
          paused: pr.isPaused(),
          inflight: pr.inflights.size(),
        });
      }
    }
    return st;
  }

  /** Shorthand for status().softState.lead. */
  leader(): bigint {
    return this.raft.lead;
  }

  isLeader(): boolean {
    return this.raft.state === StateType.Leader;
  }
}

/**
 * Prepares the storage of a founding member of a new cluster: an initial
 * snapshot at index 1, term 1 with the given membership. Every founding member
 * must use the same arguments; members added later start from empty storage
 * and receive a snapshot from the leader.
 */
export function bootstrapStorage(storage: MemoryStorage, voters: bigint[], learners: bigint[] = []): void {
  if (voters.length === 0) throw new Error('bootstrap needs at least one voter');
  const confState = { ...emptyConfState(), voters: [...voters], learners: [...learners] };
  storage.applySnapshot({ data: EMPTY_BYTES, metadata: { index: 1n, term: 1n, confState } });
  storage.setHardState({ term: 1n, vote: NONE, commit: 1n });
}
