import { decodeConfChangeV2, encodeConfChangeV2 } from './codec';
import {
  Changer,
  ChangeResult,
  enterJointOf,
  isLeaveJoint,
  leaveJointChange,
  restoreConfig,
} from './confchange';
import {
  CompactedError,
  ConfigError,
  ProposalDroppedError,
  SnapshotTemporarilyUnavailableError,
  UnavailableError,
} from './errors';
import { RaftLog } from './log';
import { RaftLogger, silentLogger } from './logger';
import { ProgressState } from './progress';
import { VoteResult } from './quorum';
import { RandomSource, SeededRandom } from './rand';
import { ReadOnly } from './read-only';
import { Storage } from './storage';
import { ProgressTracker, configToString, emptyTrackerConfig } from './tracker';
import {
  ConfChangeV2,
  ConfState,
  EMPTY_BYTES,
  Entry,
  EntryType,
  HardState,
  Message,
  MessageType,
  NONE,
  NO_LIMIT,
  ReadOnlyOption,
  ReadState,
  STATE_NAMES,
  Snapshot,
  SoftState,
  StateType,
  entriesSize,
  isEmptyHardState,
  isEmptySnapshot,
  makeMessage,
  maxBig,
  minBig,
  voteResponseType,
} from './types';

export interface RaftConfig {
  /** This node's id; never 0. */
  id: bigint;
  /** Ticks a follower waits without hearing from a leader before campaigning (randomized in [n, 2n)). */
  electionTick: number;
  /** Ticks between leader heartbeats; must be smaller than electionTick. */
  heartbeatTick: number;
  storage: Storage;
  /** Last applied index when restarting; entries up to it are not handed out again. */
  applied?: bigint;
  /** Byte budget of one append message (at least one entry is always sent). Default 1 MiB. */
  maxSizePerMsg?: number;
  /** Byte budget of the committed entries handed out in one Ready. Default 64 MiB. */
  maxCommittedSizePerReady?: number;
  /** Byte budget of uncommitted entries on the leader before proposals are refused; 0 = unlimited. */
  maxUncommittedEntriesSize?: number;
  /** Append messages in flight per follower in Replicate state. Default 256. */
  maxInflightMsgs?: number;
  /** Bytes in flight per follower; 0 = unlimited. */
  maxInflightBytes?: number;
  /** A leader steps down when it has not heard from a quorum for an election timeout. */
  checkQuorum?: boolean;
  /** Ask for (non-binding) pre-votes before raising the term, so a rejoining node cannot disrupt. */
  preVote?: boolean;
  readOnlyOption?: ReadOnlyOption;
  /** Followers refuse proposals instead of forwarding them to the leader. */
  disableProposalForwarding?: boolean;
  /** Randomness for election timeouts; defaults to a PRNG seeded from `seed` or the node id. */
  random?: RandomSource;
  seed?: number;
  logger?: RaftLogger;
}

export enum CampaignType {
  PreElection = 'CampaignPreElection',
  Election = 'CampaignElection',
  Transfer = 'CampaignTransfer',
}

/** Vote context that marks a campaign started by a leadership transfer (it may break a lease). */
export const CAMPAIGN_TRANSFER_CONTEXT = new Uint8Array(Buffer.from(CampaignType.Transfer, 'utf8'));

function isTransferContext(ctx: Uint8Array): boolean {
  if (ctx.length !== CAMPAIGN_TRANSFER_CONTEXT.length) return false;
  for (let i = 0; i < ctx.length; i++) if (ctx[i] !== CAMPAIGN_TRANSFER_CONTEXT[i]) return false;
  return true;
}

export function validateConfig(c: RaftConfig): void {
  if (c.id === NONE) throw new ConfigError('cannot use none as id');
  if (!(c.heartbeatTick > 0)) throw new ConfigError('heartbeat tick must be greater than 0');
  if (!(c.electionTick > c.heartbeatTick))
    throw new ConfigError('election tick must be greater than heartbeat tick');
  if (c.maxInflightMsgs !== undefined && !(c.maxInflightMsgs > 0)) {
    throw new ConfigError('max inflight messages must be greater than 0');
  }
  if (c.readOnlyOption === ReadOnlyOption.LeaseBased && !c.checkQuorum) {
    throw new ConfigError('checkQuorum must be enabled when readOnlyOption is LeaseBased');
  }
}

/**
 * The Raft state machine. It never does I/O: it only appends to its in-memory
 * log and queues messages, which the node wrapper (RaftNode) hands out.
 */
export class Raft {
  readonly id: bigint;
  term = 0n;
  vote = NONE;
  readStates: ReadState[] = [];
  readonly raftLog: RaftLog;
  readonly maxMsgSize: number;
  readonly maxUncommittedSize: number;
  readonly trk: ProgressTracker;
  state = StateType.Follower;
  /** This node is a learner in the current configuration. */
  isLearner = false;
  /** Messages that may be sent right away. */
  msgs: Message[] = [];
  /**
   * Messages that may only leave once the entries and hard state of the same
   * Ready are durable (responses vouching for the local log or vote). Those
   * addressed to this node itself are stepped back in when the Ready is advanced.
   */
  msgsAfterPersist: Message[] = [];
  lead = NONE;
  /** Target of a leadership transfer in progress (NONE if none). */
  leadTransferee = NONE;
  /** Index of the latest conf change the leader appended; a new one waits until it is applied. */
  pendingConfIndex = 0n;
  uncommittedSize = 0;
  readOnly: ReadOnly;
  /** A TimeoutNow arrived while conf changes were unapplied: campaign once they are. */
  pendingTransferCampaign = false;
  /** ReadIndex requests arrived since the last heartbeat round was started for them. */
  readIndexBroadcastPending = false;
  electionElapsed = 0;
  heartbeatElapsed = 0;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  readonly heartbeatTimeout: number;
  readonly electionTimeout: number;
  randomizedElectionTimeout = 0;
  readonly disableProposalForwarding: boolean;
  /** ReadIndex requests received before this leader committed an entry of its term. */
  pendingReadIndexMessages: Message[] = [];
  readonly logger: RaftLogger;
  private readonly rand: RandomSource;

  constructor(c: RaftConfig) {
    validateConfig(c);
    this.id = c.id;
    this.logger = c.logger ?? silentLogger;
    this.rand = c.random ?? new SeededRandom(c.seed ?? c.id);
    this.maxMsgSize = c.maxSizePerMsg ?? 1024 * 1024;
    this.maxUncommittedSize = c.maxUncommittedEntriesSize || NO_LIMIT;
    this.raftLog = new RaftLog(c.storage, this.logger, c.maxCommittedSizePerReady ?? 64 * 1024 * 1024);
    this.trk = new ProgressTracker(c.maxInflightMsgs ?? 256, c.maxInflightBytes ?? 0);
    this.checkQuorum = c.checkQuorum ?? false;
    this.preVote = c.preVote ?? false;
    this.heartbeatTimeout = c.heartbeatTick;
    this.electionTimeout = c.electionTick;
    this.disableProposalForwarding = c.disableProposalForwarding ?? false;
    this.readOnly = new ReadOnly(c.readOnlyOption ?? ReadOnlyOption.Safe);

    const { hardState, confState } = c.storage.initialState();
    const restored = restoreConfig(this.trk, confState, this.raftLog.lastIndex());
    this.switchToConfig(restored);
    if (!isEmptyHardState(hardState)) this.loadState(hardState);
    if (c.applied !== undefined && c.applied > 0n) this.raftLog.appliedTo(c.applied);
    this.becomeFollower(this.term, NONE);

    const nodes = this.trk.voterNodes().join(',');
    this.logger.info(
      `newRaft ${this.id} [peers: [${nodes}], term: ${this.term}, commit: ${this.raftLog.committed}, applied: ${this.raftLog.applied}, lastindex: ${this.raftLog.lastIndex()}, lastterm: ${this.raftLog.lastTerm()}]`,
    );
  }

  hasLeader(): boolean {
    return this.lead !== NONE;
  }

  softState(): SoftState {
    return { lead: this.lead, raftState: this.state };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  private loadState(hs: HardState): void {
    if (hs.commit > this.raftLog.lastIndex()) {
      throw new Error(
        `${this.id} state.commit ${hs.commit} is out of range [${this.raftLog.committed}, ${this.raftLog.lastIndex()}]`,
      );
    }
    // A commit index below the snapshot is merely stale (commit-only changes
    // need not be synced); the snapshot itself is committed.
    this.raftLog.committed = maxBig(hs.commit, this.raftLog.committed);
    this.term = hs.term;
    this.vote = hs.vote;
  }

  // ---------------------------------------------------------------- sending

  /** Queues a message, stamping sender and term, into the right outbox. */
  private send(m: Message): void {
    if (m.from === NONE) m.from = this.id;
    const t = m.type;
    if (
      t === MessageType.Vote ||
      t === MessageType.VoteResp ||
      t === MessageType.PreVote ||
      t === MessageType.PreVoteResp
    ) {
      // Vote messages carry the term they campaign for (pre-votes: a future one).
      if (m.term === 0n) throw new Error(`term should be set when sending ${MessageType[t]}`);
    } else {
      if (m.term !== 0n)
        throw new Error(`term should not be set when sending ${MessageType[t]} (was ${m.term})`);
      // Forwarded proposals and read requests are term-less, like local messages.
      if (t !== MessageType.Prop && t !== MessageType.ReadIndex) m.term = this.term;
    }
    if (
      m.to === this.id ||
      t === MessageType.AppResp ||
      t === MessageType.VoteResp ||
      t === MessageType.PreVoteResp ||
      t === MessageType.HeartbeatResp
    ) {
      this.msgsAfterPersist.push(m);
    } else {
      this.msgs.push(m);
    }
  }

  /** Sends an append (or a snapshot if needed) to a follower, even if it carries no entries. */
  sendAppend(to: bigint): void {
    this.maybeSendAppend(to, true);
  }

  /**
   * Sends what the follower needs next, unless its flow is paused. With
   * sendIfEmpty false, nothing is sent when there are no new entries.
   */
  maybeSendAppend(to: bigint, sendIfEmpty: boolean): boolean {
    if (to === this.id) return false;
    const pr = this.trk.progress.get(to);
    if (!pr || pr.isPaused()) return false;
    const prevIndex = pr.next - 1n;
    let prevTerm: bigint;
    let ents: Entry[];
    try {
      prevTerm = this.raftLog.term(prevIndex);
      ents = this.raftLog.entries(pr.next, this.maxMsgSize);
    } catch (e) {
      if (e instanceof CompactedError || e instanceof UnavailableError) return this.maybeSendSnapshot(to);
      throw e;
    }
    if (ents.length === 0 && !sendIfEmpty) return false;
    this.send(
      makeMessage({
        type: MessageType.App,
        to,
        index: prevIndex,
        logTerm: prevTerm,
        entries: ents,
        commit: this.raftLog.committed,
      }),
    );
    pr.sentEntries(ents.length, entriesSize(ents));
    return true;
  }

  private maybeSendSnapshot(to: bigint): boolean {
    const pr = this.trk.progress.get(to)!;
    if (!pr.recentActive) {
      this.logger.debug(`ignore sending snapshot to ${to} since it is not recently active`);
      return false;
    }
    let snap;
    try {
      snap = this.raftLog.snapshot();
    } catch (e) {
      if (e instanceof SnapshotTemporarilyUnavailableError) {
        this.logger.debug(
          `${this.id} failed to send snapshot to ${to} because snapshot is temporarily unavailable`,
        );
        return false;
      }
      throw e;
    }
    if (isEmptySnapshot(snap)) throw new Error('need non-empty snapshot');
    const { index, term } = snap.metadata;
    this.logger.debug(
      `${this.id} [firstindex: ${this.raftLog.firstIndex()}, commit: ${this.raftLog.committed}] sent snapshot[index: ${index}, term: ${term}] to ${to} [${pr.toString()}]`,
    );
    pr.becomeSnapshot(index);
    this.send(makeMessage({ type: MessageType.Snap, to, snapshot: snap }));
    return true;
  }

  private sendHeartbeat(to: bigint, ctx: Uint8Array): void {
    // Never tell a follower to commit past what it is known to have: it may not have it.
    const pr = this.trk.progress.get(to)!;
    const commit = minBig(pr.match, this.raftLog.committed);
    this.send(makeMessage({ type: MessageType.Heartbeat, to, commit, context: ctx }));
  }

  bcastAppend(): void {
    for (const id of this.trk.progress.keys()) {
      if (id !== this.id) this.sendAppend(id);
    }
  }

  private bcastHeartbeat(): void {
    const ctx = this.readOnly.lastPendingRequestCtx();
    this.bcastHeartbeatWithCtx(ctx ?? EMPTY_BYTES);
    this.readIndexBroadcastPending = false;
  }

  private bcastHeartbeatWithCtx(ctx: Uint8Array): void {
    for (const id of this.trk.progress.keys()) {
      if (id !== this.id) this.sendHeartbeat(id, ctx);
    }
  }

  /**
   * Starts one heartbeat round for all ReadIndex requests queued since the
   * last round (the node calls this when it builds a Ready, which batches them).
   */
  flushReadIndex(): void {
    if (!this.readIndexBroadcastPending) return;
    this.readIndexBroadcastPending = false;
    if (this.state !== StateType.Leader) return;
    const ctx = this.readOnly.lastPendingRequestCtx();
    if (ctx) this.bcastHeartbeatWithCtx(ctx);
  }

  // ---------------------------------------------------------------- log

  /** Marks entries up to `index` as handed to the application. */
  appliedTo(index: bigint, size: number): void {
    const newApplied = maxBig(index, this.raftLog.applied);
    this.raftLog.appliedTo(newApplied);
    this.reduceUncommittedSize(size);
    this.maybeAutoLeave();
    if (this.pendingTransferCampaign && !this.hasUnappliedConfChanges()) {
      this.pendingTransferCampaign = false;
      if (this.state === StateType.Follower) this.hup(CampaignType.Transfer);
    }
  }

  /** A snapshot was installed by the application. */
  appliedSnap(index: bigint): void {
    this.raftLog.appliedTo(maxBig(index, this.raftLog.applied));
  }

  /** Proposes leaving an auto-leave joint config once the change that entered it is applied. */
  private maybeAutoLeave(): void {
    if (
      this.state === StateType.Leader &&
      this.trk.config.autoLeave &&
      this.raftLog.applied >= this.pendingConfIndex
    ) {
      const m = makeMessage({
        type: MessageType.Prop,
        from: this.id,
        entries: [
          { term: 0n, index: 0n, type: EntryType.ConfChangeV2, data: encodeConfChangeV2(leaveJointChange()) },
        ],
      });
      try {
        this.step(m);
        this.logger.info(
          `initiating automatic transition out of joint configuration ${configToString(this.trk.config)}`,
        );
      } catch (e) {
        if (!(e instanceof ProposalDroppedError)) throw e;
        this.logger.debug(`not initiating automatic transition out of joint configuration: ${e.message}`);
      }
    }
  }

  /** Appends proposals as the leader, assigning terms and indexes. */
  private appendEntry(es: readonly Entry[]): void {
    let li = this.raftLog.lastIndex();
    const ents: Entry[] = new Array<Entry>(es.length);
    for (let i = 0; i < es.length; i++) {
      ents[i] = { term: this.term, index: li + 1n + BigInt(i), type: es[i].type, data: es[i].data };
    }
    if (!this.increaseUncommittedSize(ents)) {
      throw new ProposalDroppedError('too many uncommitted entries');
    }
    li = this.raftLog.append(ents);
    // The leader's own acknowledgement counts only once the entries are durable.
    this.send(makeMessage({ type: MessageType.AppResp, to: this.id, index: li }));
  }

  private increaseUncommittedSize(ents: Entry[]): boolean {
    let s = 0;
    for (const e of ents) s += e.data.length;
    if (this.uncommittedSize > 0 && s > 0 && this.uncommittedSize + s > this.maxUncommittedSize) return false;
    this.uncommittedSize += s;
    return true;
  }

  private reduceUncommittedSize(s: number): void {
    this.uncommittedSize = s > this.uncommittedSize ? 0 : this.uncommittedSize - s;
  }

  /** Commits what a quorum has acknowledged, if it belongs to the current term. */
  maybeCommit(): boolean {
    return this.raftLog.maybeCommit(this.trk.committed(), this.term);
  }

  private committedEntryInCurrentTerm(): boolean {
    return this.raftLog.termOrZero(this.raftLog.committed) === this.term;
  }

  // ---------------------------------------------------------------- roles

  private reset(term: bigint): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.trk.resetVotes();
    const last = this.raftLog.lastIndex();
    for (const [id, pr] of this.trk.progress) {
      const isLearner = pr.isLearner;
      const fresh = this.trk.newProgress(last + 1n, isLearner);
      if (id === this.id) {
        fresh.match = last;
        fresh.recentActive = true;
      }
      this.trk.progress.set(id, fresh);
    }
    this.pendingConfIndex = 0n;
    this.uncommittedSize = 0;
    this.readOnly = new ReadOnly(this.readOnly.option);
    this.readIndexBroadcastPending = false;
    this.pendingTransferCampaign = false;
  }

  becomeFollower(term: bigint, lead: bigint): void {
    this.reset(term);
    this.lead = lead;
    this.state = StateType.Follower;
    this.pendingReadIndexMessages = [];
    this.logger.info(`${this.id} became follower at term ${this.term}`);
  }

  becomeCandidate(): void {
    if (this.state === StateType.Leader) throw new Error('invalid transition [leader -> candidate]');
    this.reset(this.term + 1n);
    this.vote = this.id;
    this.state = StateType.Candidate;
    this.logger.info(`${this.id} became candidate at term ${this.term}`);
  }

  becomePreCandidate(): void {
    if (this.state === StateType.Leader) throw new Error('invalid transition [leader -> pre-candidate]');
    // A pre-candidate changes neither term nor vote: the pre-vote is non-binding.
    this.trk.resetVotes();
    this.lead = NONE;
    this.state = StateType.PreCandidate;
    this.logger.info(`${this.id} became pre-candidate at term ${this.term}`);
  }

  becomeLeader(): void {
    if (this.state === StateType.Follower) throw new Error('invalid transition [follower -> leader]');
    this.reset(this.term);
    this.lead = this.id;
    this.state = StateType.Leader;
    const self = this.trk.progress.get(this.id);
    if (self) self.becomeReplicate();
    // Conservatively treat any unapplied entry as a possible conf change.
    this.pendingConfIndex = this.raftLog.lastIndex();
    // The no-op entry lets the new leader commit (and learn the commit of) earlier terms.
    this.appendEntry([{ term: 0n, index: 0n, type: EntryType.Normal, data: EMPTY_BYTES }]);
    this.logger.info(`${this.id} became leader at term ${this.term}`);
  }

  private resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTimeout + this.rand.intn(this.electionTimeout);
  }

  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  /** Whether this node may become leader: a voter, and not waiting on a snapshot. */
  promotable(): boolean {
    const pr = this.trk.progress.get(this.id);
    return pr !== undefined && !pr.isLearner && !this.raftLog.hasNextOrInProgressSnapshot();
  }

  /** Starts a transfer to the voter with the most of our log (used when we were removed). */
  private maybeHandOffLeadership(): void {
    if (this.leadTransferee !== NONE) return;
    let best = NONE;
    let bestMatch = -1n;
    for (const id of this.trk.voterNodes()) {
      const pr = this.trk.progress.get(id);
      if (id === this.id || !pr || pr.isLearner) continue;
      if (pr.match > bestMatch) {
        best = id;
        bestMatch = pr.match;
      }
    }
    if (best === NONE) return;
    this.step(makeMessage({ type: MessageType.TransferLeader, from: best }));
  }

  private abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
  }

  // ---------------------------------------------------------------- ticks

  tick(): void {
    if (this.state === StateType.Leader) this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0;
      this.step(makeMessage({ type: MessageType.Hup, from: this.id }));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step(makeMessage({ type: MessageType.CheckQuorum, from: this.id }));
      // A transfer that did not finish within an election timeout is abandoned.
      if (this.state === StateType.Leader && this.leadTransferee !== NONE) this.abortLeaderTransfer();
    }
    if (this.state !== StateType.Leader) return;
    // A removed leader retries its hand-off until someone takes over.
    if (this.leadTransferee === NONE && !this.trk.isVoter(this.id)) this.maybeHandOffLeadership();
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.step(makeMessage({ type: MessageType.Beat, from: this.id }));
    }
  }

  // ---------------------------------------------------------------- elections

  private hup(t: CampaignType): void {
    if (this.state === StateType.Leader) {
      this.logger.debug(`${this.id} ignoring MsgHup because already leader`);
      return;
    }
    if (!this.promotable()) {
      this.logger.warn(`${this.id} is unpromotable and can not campaign`);
      return;
    }
    if (this.hasUnappliedConfChanges()) {
      this.logger.warn(
        `${this.id} cannot campaign at term ${this.term} since there are still pending configuration changes to apply`,
      );
      return;
    }
    this.logger.info(`${this.id} is starting a new election at term ${this.term}`);
    this.campaign(t);
  }

  /**
   * A node must not campaign while committed conf changes are unapplied: it
   * might be counting votes against the wrong configuration.
   */
  private hasUnappliedConfChanges(): boolean {
    if (this.raftLog.applied >= this.raftLog.committed) return false;
    let lo = this.raftLog.applied + 1n;
    const hi = this.raftLog.committed + 1n;
    const pageSize = 1024 * 1024;
    while (lo < hi) {
      let ents: Entry[];
      try {
        ents = this.raftLog.slice(lo, hi, pageSize);
      } catch (e) {
        if (e instanceof CompactedError) return false;
        throw e;
      }
      if (ents.length === 0) break;
      for (const e of ents) if (e.type !== EntryType.Normal) return true;
      lo = ents[ents.length - 1].index + 1n;
    }
    return false;
  }

  campaign(t: CampaignType): void {
    if (!this.promotable()) {
      this.logger.warn(`${this.id} is unpromotable; campaign() should have been called`);
    }
    let term: bigint;
    let voteMsg: MessageType;
    if (t === CampaignType.PreElection) {
      this.becomePreCandidate();
      voteMsg = MessageType.PreVote;
      // Pre-votes are asked for the term we would campaign in.
      term = this.term + 1n;
    } else {
      this.becomeCandidate();
      voteMsg = MessageType.Vote;
      term = this.term;
    }
    const lastIndex = this.raftLog.lastIndex();
    const lastTerm = this.raftLog.lastTerm();
    for (const id of this.trk.voterNodes()) {
      if (id === this.id) {
        // Our own vote counts once the vote (term) is durable.
        this.send(makeMessage({ type: voteResponseType(voteMsg), to: id, term }));
        continue;
      }
      this.logger.info(
        `${this.id} [logterm: ${lastTerm}, index: ${lastIndex}] sent ${MessageType[voteMsg]} request to ${id} at term ${this.term}`,
      );
      this.send(
        makeMessage({
          type: voteMsg,
          to: id,
          term,
          index: lastIndex,
          logTerm: lastTerm,
          context: t === CampaignType.Transfer ? CAMPAIGN_TRANSFER_CONTEXT : EMPTY_BYTES,
        }),
      );
    }
  }

  private poll(id: bigint, t: MessageType, granted: boolean): VoteResult {
    this.logger.info(
      `${this.id} received ${MessageType[t]} ${granted ? '' : 'rejection '}from ${id} at term ${this.term}`,
    );
    this.trk.recordVote(id, granted);
    return this.trk.tallyVotes().result;
  }

  /**
   * Refuses a (pre-)vote, telling the candidate how much of its log we know to
   * be committed: (index, logTerm) of min(our commit, its last index).
   * Without it a voter that missed only the commit of a conf change (say, the
   * one demoting the old leader) keeps counting a non-voter whose longer log
   * refuses it, and no one can ever be elected.
   */
  private rejectVote(m: Message): void {
    this.logger.info(
      `${this.id} [logterm: ${this.raftLog.lastTerm()}, index: ${this.raftLog.lastIndex()}, vote: ${this.vote}] rejected ${MessageType[m.type]} from ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}`,
    );
    const index = this.raftLog.committed < m.index ? this.raftLog.committed : m.index;
    this.send(
      makeMessage({
        type: voteResponseType(m.type),
        to: m.from,
        term: this.term,
        reject: true,
        index,
        logTerm: this.raftLog.termOrZero(index),
      }),
    );
  }

  /** Commits what a rejecting voter reports as committed, where our log provably holds the same entries. */
  private learnCommitFromRejection(m: Message): void {
    if (m.index <= this.raftLog.committed || m.logTerm === 0n) return;
    // Log Matching: the same term at the same index means the same prefix.
    if (!this.raftLog.matchTerm(m.index, m.logTerm)) return;
    this.logger.info(`${this.id} learned from ${m.from}'s vote rejection that index ${m.index} is committed`);
    this.raftLog.commitTo(m.index);
  }

  // ---------------------------------------------------------------- stepping

  /** Feeds one message into the state machine. Throws ProposalDroppedError for proposals that cannot be made. */
  step(m: Message): void {
    if (m.term === 0n) {
      // Local message (or a term-less forwarded proposal / read request).
    } else if (m.term > this.term) {
      if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
        const force = isTransferContext(m.context);
        const inLease = this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTimeout;
        if (!force && inLease) {
          // We heard from a leader within the minimum election timeout: a
          // disruptive (removed or partitioned) candidate is ignored.
          this.logger.info(
            `${this.id} [logterm: ${this.raftLog.lastTerm()}, index: ${this.raftLog.lastIndex()}, vote: ${this.vote}] ignored ${MessageType[m.type]} from ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}: lease is not expired (remaining ticks: ${this.electionTimeout - this.electionElapsed})`,
          );
          return;
        }
      }
      if (m.type === MessageType.PreVote) {
        // Pre-votes never change our term.
      } else if (m.type === MessageType.PreVoteResp && !m.reject) {
        // A granted pre-vote carries the future term; the term moves when a quorum grants.
      } else {
        this.logger.info(
          `${this.id} [term: ${this.term}] received a ${MessageType[m.type]} message with higher term from ${m.from} [term: ${m.term}]`,
        );
        if (m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap) {
          this.becomeFollower(m.term, m.from);
        } else {
          this.becomeFollower(m.term, NONE);
        }
      }
    } else if (m.term < this.term) {
      if (
        (this.checkQuorum || this.preVote) &&
        (m.type === MessageType.Heartbeat || m.type === MessageType.App)
      ) {
        // A stale leader (or one partitioned while we moved on) learns our
        // term from this response and steps down; without it, a node that
        // raised its term alone could never rejoin under check-quorum/pre-vote.
        this.send(makeMessage({ type: MessageType.AppResp, to: m.from }));
      } else if (m.type === MessageType.PreVote) {
        this.rejectVote(m);
      } else {
        this.logger.debug(
          `${this.id} [term: ${this.term}] ignored a ${MessageType[m.type]} message with lower term from ${m.from} [term: ${m.term}]`,
        );
      }
      return;
    }

    switch (m.type) {
      case MessageType.Hup:
        this.hup(this.preVote ? CampaignType.PreElection : CampaignType.Election);
        return;
      case MessageType.Vote:
      case MessageType.PreVote: {
        // We can vote for a node we already voted for in this term, for anyone
        // if we have neither voted nor know a leader, and pre-vote for any
        // future term.
        const canVote =
          this.vote === m.from ||
          (this.vote === NONE && this.lead === NONE) ||
          (m.type === MessageType.PreVote && m.term > this.term);
        if (canVote && this.raftLog.isUpToDate(m.index, m.logTerm)) {
          this.logger.info(
            `${this.id} [logterm: ${this.raftLog.lastTerm()}, index: ${this.raftLog.lastIndex()}, vote: ${this.vote}] cast ${MessageType[m.type]} for ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}`,
          );
          // Answer with the request's term: for pre-votes it is a future term we did not adopt.
          this.send(makeMessage({ type: voteResponseType(m.type), to: m.from, term: m.term }));
          if (m.type === MessageType.Vote) {
            this.electionElapsed = 0;
            this.vote = m.from;
          }
        } else {
          this.rejectVote(m);
        }
        return;
      }
      case MessageType.VoteResp:
      case MessageType.PreVoteResp:
        if (m.reject) this.learnCommitFromRejection(m);
        break;
      default:
        break;
    }

    switch (this.state) {
      case StateType.Leader:
        this.stepLeader(m);
        return;
      case StateType.Candidate:
      case StateType.PreCandidate:
        this.stepCandidate(m);
        return;
      default:
        this.stepFollower(m);
    }
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case MessageType.Beat:
        this.bcastHeartbeat();
        return;
      case MessageType.CheckQuorum:
        if (!this.trk.quorumActive()) {
          this.logger.warn(`${this.id} stepped down to follower since quorum is not active`);
          this.becomeFollower(this.term, NONE);
        }
        // Each round must hear from the followers again.
        for (const [id, pr] of this.trk.progress) {
          if (id !== this.id) pr.recentActive = false;
        }
        return;
      case MessageType.Prop:
        this.leaderPropose(m);
        return;
      case MessageType.ReadIndex:
        this.leaderReadIndex(m);
        return;
      default:
        break;
    }

    const pr = this.trk.progress.get(m.from);
    if (!pr) {
      this.logger.debug(`${this.id} no progress available for ${m.from}`);
      return;
    }
    switch (m.type) {
      case MessageType.AppResp: {
        pr.recentActive = true;
        if (m.reject) {
          this.logger.debug(
            `${this.id} received MsgAppResp(rejected, hint: (index ${m.rejectHint}, term ${m.logTerm})) from ${m.from} for index ${m.index}`,
          );
          let nextProbeIdx = m.rejectHint;
          if (m.logTerm > 0n) {
            // The follower's hint is (index, term) of its own log; find our
            // last index with a term <= that, since everything after it
            // cannot match (fast back-off: one round trip per term).
            nextProbeIdx = this.raftLog.findConflictByTerm(m.rejectHint, m.logTerm)[0];
          }
          if (pr.maybeDecrTo(m.index, nextProbeIdx)) {
            this.logger.debug(`${this.id} decreased progress of ${m.from} to [${pr.toString()}]`);
            if (pr.state === ProgressState.Replicate) pr.becomeProbe();
            this.sendAppend(m.from);
          }
          return;
        }
        const oldPaused = pr.isPaused();
        // A probe answered at the current match also proves the follower is in sync.
        if (pr.maybeUpdate(m.index) || (pr.match === m.index && pr.state === ProgressState.Probe)) {
          if (pr.state === ProgressState.Probe) {
            pr.becomeReplicate();
          } else if (pr.state === ProgressState.Snapshot && pr.match + 1n >= this.raftLog.firstIndex()) {
            // The follower caught up through the snapshot (or the log).
            this.logger.debug(
              `${this.id} recovered from needing snapshot, resumed sending replication messages to ${m.from} [${pr.toString()}]`,
            );
            pr.becomeProbe();
            pr.becomeReplicate();
          } else if (pr.state === ProgressState.Replicate) {
            pr.inflights.freeLE(m.index);
          }
          if (this.maybeCommit()) {
            this.releasePendingReadIndexMessages();
            this.bcastAppend();
          } else if (m.from !== this.id && oldPaused) {
            // The window was full; now that it moved, send what was held back.
            this.sendAppend(m.from);
          }
          if (m.from !== this.id) {
            // Keep the pipe full while entries and window allow.
            while (this.maybeSendAppend(m.from, false)) {
              /* send more */
            }
          }
          if (m.from === this.leadTransferee && pr.match === this.raftLog.lastIndex()) {
            this.logger.info(`${this.id} sent MsgTimeoutNow to ${m.from} after received MsgAppResp`);
            this.sendTimeoutNow(m.from);
          }
        }
        return;
      }
      case MessageType.HeartbeatResp: {
        pr.recentActive = true;
        pr.msgAppFlowPaused = false;
        // If every append in the window was lost, free a slot so a new append
        // goes out and the follower's rejection resynchronises us.
        if (pr.state === ProgressState.Replicate && pr.inflights.full()) pr.inflights.freeFirstOne();
        if (pr.match < this.raftLog.lastIndex()) this.sendAppend(m.from);
        if (this.readOnly.option !== ReadOnlyOption.Safe || m.context.length === 0) return;
        const acks = this.readOnly.recvAck(m.from, m.context);
        if (!acks) return;
        if (this.trk.tallyAcks(acks) !== VoteResult.Won) return;
        for (const rs of this.readOnly.advance(m.context)) this.respondToReadIndex(rs.req, rs.index);
        return;
      }
      case MessageType.SnapStatus:
        if (pr.state !== ProgressState.Snapshot) return;
        if (m.reject) {
          // The snapshot failed: forget it, and probe again.
          pr.pendingSnapshot = 0n;
          this.logger.debug(
            `${this.id} snapshot failed, resumed sending replication messages to ${m.from} [${pr.toString()}]`,
          );
        } else {
          this.logger.debug(
            `${this.id} snapshot succeeded, resumed sending replication messages to ${m.from} [${pr.toString()}]`,
          );
        }
        pr.becomeProbe();
        // Wait for the follower's answer (or a heartbeat response) before the next probe.
        pr.msgAppFlowPaused = true;
        return;
      case MessageType.Unreachable:
        // Appends were probably lost: go back to probing.
        if (pr.state === ProgressState.Replicate) pr.becomeProbe();
        this.logger.debug(
          `${this.id} failed to send message to ${m.from} because it is unreachable [${pr.toString()}]`,
        );
        return;
      case MessageType.TransferLeader: {
        if (pr.isLearner) {
          this.logger.debug(`${this.id} is learner. Ignored transferring leadership`);
          return;
        }
        const transferee = m.from;
        const last = this.leadTransferee;
        if (last !== NONE) {
          if (last === transferee) {
            this.logger.info(
              `${this.id} [term ${this.term}] transfer leadership to ${transferee} is in progress, ignores request to same node ${transferee}`,
            );
            return;
          }
          this.abortLeaderTransfer();
          this.logger.info(
            `${this.id} [term ${this.term}] abort previous transferring leadership to ${last}`,
          );
        }
        if (transferee === this.id) {
          this.logger.debug(`${this.id} is already leader. Ignored transferring leadership to self`);
          return;
        }
        this.logger.info(`${this.id} [term ${this.term}] starts to transfer leadership to ${transferee}`);
        // The transfer must complete within one election timeout.
        this.electionElapsed = 0;
        this.leadTransferee = transferee;
        if (pr.match === this.raftLog.lastIndex()) {
          this.sendTimeoutNow(transferee);
          this.logger.info(
            `${this.id} sends MsgTimeoutNow to ${transferee} immediately as ${transferee} already has up-to-date log`,
          );
        } else {
          this.sendAppend(transferee);
        }
        return;
      }
      default:
        return;
    }
  }

  private leaderPropose(m: Message): void {
    if (m.entries.length === 0) throw new Error(`${this.id} stepped empty MsgProp`);
    if (!this.trk.isVoter(this.id)) {
      // Removed (or demoted) while still leading: only handing off remains.
      throw new ProposalDroppedError('leader was removed from the configuration');
    }
    if (this.leadTransferee !== NONE) {
      this.logger.debug(
        `${this.id} [term ${this.term}] transfer leadership to ${this.leadTransferee} is in progress; dropping proposal`,
      );
      throw new ProposalDroppedError('leadership transfer in progress');
    }
    for (let i = 0; i < m.entries.length; i++) {
      const e = m.entries[i];
      if (e.type === EntryType.Normal) continue;
      // A V1 change is always a simple one; only V2 can ask to leave a joint config.
      const wantsLeaveJoint = e.type === EntryType.ConfChangeV2 && isLeaveJoint(decodeConfChangeV2(e.data));
      const alreadyPending = this.pendingConfIndex > this.raftLog.applied;
      const alreadyJoint = this.trk.isJoint();
      let refused = '';
      if (alreadyPending) {
        refused = `possible unapplied conf change at index ${this.pendingConfIndex} (applied to ${this.raftLog.applied})`;
      } else if (alreadyJoint && !wantsLeaveJoint) {
        refused = 'must transition out of joint config first';
      } else if (!alreadyJoint && wantsLeaveJoint) {
        refused = 'not in joint state; refusing empty conf change';
      }
      if (refused !== '') {
        this.logger.info(
          `${this.id} ignoring conf change at config ${configToString(this.trk.config)}: ${refused}`,
        );
        throw new ProposalDroppedError(`conf change refused: ${refused}`);
      }
    }
    const firstNew = this.raftLog.lastIndex() + 1n;
    this.appendEntry(m.entries);
    for (let i = 0; i < m.entries.length; i++) {
      if (m.entries[i].type !== EntryType.Normal) this.pendingConfIndex = firstNew + BigInt(i);
    }
    this.bcastAppend();
  }

  private leaderReadIndex(m: Message): void {
    if (this.trk.isSingleton() && this.trk.config.voters.incoming.has(this.id)) {
      // The only voter: our commit index is the quorum's. (A removed leader
      // whose config holds one other voter must not take this shortcut.)
      this.respondToReadIndex(m, this.raftLog.committed);
      return;
    }
    // Until this leader commits an entry of its own term it does not know the
    // true commit index; park the request until then.
    if (!this.committedEntryInCurrentTerm()) {
      this.pendingReadIndexMessages.push(m);
      return;
    }
    this.sendReadIndexResponse(m);
  }

  private sendReadIndexResponse(m: Message): void {
    // The lease is only ours while we are a voter whose quorum is checked.
    if (this.readOnly.option === ReadOnlyOption.LeaseBased && this.trk.isVoter(this.id)) {
      this.respondToReadIndex(m, this.raftLog.committed);
      return;
    }
    if (!this.readOnly.addRequest(this.raftLog.committed, m)) {
      this.logger.warn(`${this.id} ignoring ReadIndex with a duplicate context`);
      if (m.from === this.id || m.from === NONE)
        throw new ProposalDroppedError('duplicate read index context');
      return;
    }
    this.readOnly.recvAck(this.id, m.context);
    // Batched: one heartbeat round starts for every request queued until the next Ready.
    this.readIndexBroadcastPending = true;
  }

  private releasePendingReadIndexMessages(): void {
    if (this.pendingReadIndexMessages.length === 0) return;
    if (!this.committedEntryInCurrentTerm()) return;
    const msgs = this.pendingReadIndexMessages;
    this.pendingReadIndexMessages = [];
    for (const m of msgs) this.sendReadIndexResponse(m);
  }

  private respondToReadIndex(req: Message, index: bigint): void {
    if (req.from === NONE || req.from === this.id) {
      this.readStates.push({ index, requestCtx: req.context });
    } else {
      this.send(makeMessage({ type: MessageType.ReadIndexResp, to: req.from, index, context: req.context }));
    }
  }

  private sendTimeoutNow(to: bigint): void {
    this.send(makeMessage({ type: MessageType.TimeoutNow, to }));
    if (!this.trk.isVoter(this.id)) {
      // A removed leader's hand-off is done: the target has our whole log and
      // can win (with our vote if it still counts us). Stop leading.
      this.logger.info(`${this.id} handed off leadership to ${to}; stepping down`);
      this.becomeFollower(this.term, NONE);
    }
  }

  private stepCandidate(m: Message): void {
    const myVoteResp = this.state === StateType.PreCandidate ? MessageType.PreVoteResp : MessageType.VoteResp;
    switch (m.type) {
      case MessageType.Prop:
        this.logger.info(`${this.id} no leader at term ${this.term}; dropping proposal`);
        throw new ProposalDroppedError('no leader');
      case MessageType.ReadIndex:
        throw new ProposalDroppedError('no leader');
      case MessageType.TransferLeader:
        throw new ProposalDroppedError('no leader');
      case MessageType.App:
        this.becomeFollower(m.term, m.from);
        this.handleAppendEntries(m);
        return;
      case MessageType.Heartbeat:
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case MessageType.Snap:
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case myVoteResp: {
        const res = this.poll(m.from, m.type, !m.reject);
        if (res === VoteResult.Won) {
          if (this.state === StateType.PreCandidate) {
            this.campaign(CampaignType.Election);
          } else {
            this.becomeLeader();
            this.bcastAppend();
          }
        } else if (res === VoteResult.Lost) {
          // A rejected pre-vote or vote moves us back to follower in the same term.
          this.becomeFollower(this.term, NONE);
        }
        return;
      }
      case MessageType.TimeoutNow:
        this.logger.debug(
          `${this.id} [term ${this.term} state ${STATE_NAMES[this.state]}] ignored MsgTimeoutNow from ${m.from}`,
        );
        return;
      default:
        return;
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case MessageType.Prop:
        if (this.lead === NONE) {
          this.logger.info(`${this.id} no leader at term ${this.term}; dropping proposal`);
          throw new ProposalDroppedError('no leader');
        }
        if (this.disableProposalForwarding) {
          this.logger.info(
            `${this.id} not forwarding to leader ${this.lead} at term ${this.term}; dropping proposal`,
          );
          throw new ProposalDroppedError('proposal forwarding is disabled');
        }
        m.to = this.lead;
        m.term = 0n;
        this.send(m);
        return;
      case MessageType.App:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppendEntries(m);
        return;
      case MessageType.Heartbeat:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case MessageType.Snap:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case MessageType.TransferLeader:
        if (this.lead === NONE) {
          this.logger.info(`${this.id} no leader at term ${this.term}; dropping leader transfer msg`);
          throw new ProposalDroppedError('no leader');
        }
        m.to = this.lead;
        m.term = 0n;
        this.send(m);
        return;
      case MessageType.TimeoutNow:
        this.logger.info(
          `${this.id} [term ${this.term}] received MsgTimeoutNow from ${m.from} and starts an election to get leadership`,
        );
        // Skip pre-vote: the leader asked for this election, and the transfer
        // context lets it through the other followers' leases. If committed
        // conf changes are still being applied (often the very change that
        // triggered the hand-off), campaign as soon as they are.
        if (this.promotable() && this.hasUnappliedConfChanges()) {
          this.pendingTransferCampaign = true;
          return;
        }
        this.hup(CampaignType.Transfer);
        return;
      case MessageType.ReadIndex:
        if (this.lead === NONE) {
          this.logger.info(`${this.id} no leader at term ${this.term}; dropping index reading msg`);
          throw new ProposalDroppedError('no leader');
        }
        m.to = this.lead;
        m.term = 0n;
        this.send(m);
        return;
      case MessageType.ReadIndexResp:
        this.readStates.push({ index: m.index, requestCtx: m.context });
        return;
      default:
        return;
    }
  }

  private handleAppendEntries(m: Message): void {
    if (m.index < this.raftLog.committed) {
      // Everything up to our commit index is already known to match.
      this.send(makeMessage({ type: MessageType.AppResp, to: m.from, index: this.raftLog.committed }));
      return;
    }
    const lastNew = this.raftLog.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      this.send(makeMessage({ type: MessageType.AppResp, to: m.from, index: lastNew }));
      return;
    }
    this.logger.debug(
      `${this.id} [logterm: ${this.raftLog.termOrZero(m.index)}, index: ${m.index}] rejected MsgApp [logterm: ${m.logTerm}, index: ${m.index}] from ${m.from}`,
    );
    // Hint the leader at our last index with a term <= the probed one: every
    // index after it is known to mismatch, which skips whole terms at once.
    const hintIndex = minBig(m.index, this.raftLog.lastIndex());
    const [idx, term] = this.raftLog.findConflictByTerm(hintIndex, m.logTerm);
    this.send(
      makeMessage({
        type: MessageType.AppResp,
        to: m.from,
        index: m.index,
        reject: true,
        rejectHint: idx,
        logTerm: term,
      }),
    );
  }

  private handleHeartbeat(m: Message): void {
    this.raftLog.commitTo(m.commit);
    this.send(makeMessage({ type: MessageType.HeartbeatResp, to: m.from, context: m.context }));
  }

  private handleSnapshot(m: Message): void {
    const s = m.snapshot;
    if (!s) return;
    const { index, term } = s.metadata;
    if (this.restore(s)) {
      this.logger.info(
        `${this.id} [commit: ${this.raftLog.committed}] restored snapshot [index: ${index}, term: ${term}]`,
      );
      this.send(makeMessage({ type: MessageType.AppResp, to: m.from, index: this.raftLog.lastIndex() }));
    } else {
      this.logger.info(
        `${this.id} [commit: ${this.raftLog.committed}] ignored snapshot [index: ${index}, term: ${term}]`,
      );
      this.send(makeMessage({ type: MessageType.AppResp, to: m.from, index: this.raftLog.committed }));
    }
  }

  /** Installs a snapshot from the leader; false if it is stale or already covered by the log. */
  private restore(s: Snapshot): boolean {
    if (s.metadata.index <= this.raftLog.committed) return false;
    if (this.state !== StateType.Follower) {
      // Only a follower receives snapshots; be defensive anyway.
      this.logger.warn(`${this.id} attempted to restore snapshot as leader; should never happen`);
      this.becomeFollower(this.term + 1n, NONE);
      return false;
    }
    const cs = s.metadata.confState;
    const found =
      cs.voters.includes(this.id) || cs.learners.includes(this.id) || cs.votersOutgoing.includes(this.id);
    if (!found) {
      // A member added after the snapshot was taken: like a freshly started
      // joiner it has no place in this config yet, and learns about itself
      // from the conf change entries that follow the snapshot.
      this.logger.info(`${this.id} restoring snapshot whose ConfState does not include it yet`);
    }
    // If the log already has the snapshot's last entry, just move the commit index.
    if (this.raftLog.matchTerm(s.metadata.index, s.metadata.term)) {
      this.logger.info(
        `${this.id} fast-forwarded commit to snapshot [index: ${s.metadata.index}, term: ${s.metadata.term}]`,
      );
      this.raftLog.commitTo(s.metadata.index);
      return false;
    }
    this.raftLog.restore(s);
    this.trk.config = emptyTrackerConfig();
    this.trk.progress = new Map();
    const restored = restoreConfig(this.trk, cs, this.raftLog.lastIndex());
    this.switchToConfig(restored);
    return true;
  }

  // ---------------------------------------------------------------- membership

  /** Applies a committed configuration change; returns the resulting ConfState. */
  applyConfChange(cc: ConfChangeV2): ConfState {
    const changer = new Changer(this.trk, this.raftLog.lastIndex());
    let res: ChangeResult;
    if (isLeaveJoint(cc)) {
      res = changer.leaveJoint();
    } else {
      const { enter, autoLeave } = enterJointOf(cc);
      res = enter ? changer.enterJoint(autoLeave, cc.changes) : changer.simple(cc.changes);
    }
    const cs = this.switchToConfig(res);
    this.maybeAutoLeave();
    return cs;
  }

  /** Adopts a new configuration and reacts to it (commit, probes, stepping down). */
  switchToConfig(res: ChangeResult): ConfState {
    this.trk.config = res.config;
    this.trk.progress = res.progress;
    this.logger.info(`${this.id} switched to configuration ${configToString(this.trk.config)}`);
    const cs = this.trk.confState();
    const pr = this.trk.progress.get(this.id);
    this.isLearner = pr !== undefined && pr.isLearner;

    if (this.state === StateType.Leader && !this.trk.isVoter(this.id)) {
      // Removed or demoted while leading. Stepping down at once could strand
      // the others: they may not know the change is committed, and may need
      // our vote. Keep leading (our ack no longer counts) and hand leadership
      // to the most up-to-date voter instead.
      this.logger.info(`${this.id} is no longer a voter; handing off leadership`);
      this.maybeHandOffLeadership();
    }
    if (this.state !== StateType.Leader || cs.voters.length === 0) return cs;

    // The quorum may have changed: commit what the new config allows, and
    // probe any new members.
    if (this.maybeCommit()) {
      this.releasePendingReadIndexMessages();
      this.bcastAppend();
    } else {
      for (const id of this.trk.progress.keys()) {
        if (id !== this.id) this.maybeSendAppend(id, false);
      }
    }
    if (this.leadTransferee !== NONE && !this.trk.config.voters.incoming.has(this.leadTransferee)) {
      this.abortLeaderTransfer();
    }
    return cs;
  }
}
