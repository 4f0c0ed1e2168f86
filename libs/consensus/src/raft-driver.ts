import {
  ConfChange,
  ConfChangeV2,
  ConfState,
  Entry,
  EntryType,
  Message,
  ProposalDroppedError,
  RaftNode,
  ReadState,
  MessageType,
  Ready,
  SnapshotMetadata,
  SnapshotStatus,
  StateType,
  decodeConfChangeEntry,
} from '../../raft/src';
import { Engine } from '../../storage/src';
import { RaftLogStore } from './raft-log-store';

/** The logging surface the driver needs (the server's Logger fits). */
export interface ConsensusLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const silent: ConsensusLogger = { info() {}, warn() {}, error() {} };

/** The driver was stopped (or failed): the request was not, or may not have been, served. */
export class DriverStoppedError extends Error {
  constructor(reason = 'raft driver stopped') {
    super(reason);
    this.name = 'DriverStoppedError';
  }
}

/** A read index was not obtained within the read timeout (e.g. the leader is unreachable). */
export class ReadTimeoutError extends Error {
  constructor() {
    super('read index timed out');
    this.name = 'ReadTimeoutError';
  }
}

/** A proposal waited the whole request timeout for a leader to be known (etcd: the context deadline). */
export class NoLeaderTimeoutError extends Error {
  constructor() {
    super('no leader within the request timeout');
    this.name = 'NoLeaderTimeoutError';
  }
}

export interface RaftDriverOptions {
  id: bigint;
  engine: Engine;
  /** Voters of a new cluster, used only when the log is empty (first start). */
  bootstrapVoters: bigint[];
  /** Learners at that start (a member joining as a learner). */
  bootstrapLearners?: bigint[];
  /** --force-new-cluster: an existing log restarts as a cluster of this member alone. */
  forceNewCluster?: boolean;
  /** Index of the last entry the state machine has applied (durably, with its effects). */
  applied: bigint;
  /**
   * Applies committed entries, in log order, synchronously. Every committed entry is handed
   * over, including the leader's empty entries and conf changes (already applied to Raft), so
   * the state machine can record each index as applied.
   */
  apply: (entries: Entry[]) => void;
  heartbeatMs: number;
  electionMs: number;
  /**
   * How long a read may wait for its index, and a proposal or read for a leader to be known
   * (default: 5 s + two election timeouts, etcd's request timeout).
   */
  readTimeoutMs?: number;
  /**
   * Called for each committed conf change, in log order, before it reaches Raft and before
   * `apply` gets its batch: false refuses it (Raft's configuration stays as it was), as etcd
   * refuses changes that fail its membership checks at apply time.
   */
  onConfChange?: (cc: ConfChange | ConfChangeV2, entry: Entry) => boolean;
  /** The configuration changed (also called at start): record it with the batch being applied. */
  onConfState?: (cs: ConfState) => void;
  /** Sends messages to peers (none in a cluster of one). */
  send?: (messages: Message[]) => void;
  /**
   * Sends a snapshot message with its data: `m.snapshot.metadata` is the state machine as it
   * stands now (this applied index, its term, the current configuration), and the callee must
   * take its image synchronously, before any further apply. Absent: snapshots are refused.
   */
  sendSnapshot?: (m: Message) => void;
  /**
   * Replaces the state machine with the staged image of a snapshot Raft is installing (index
   * and term of `metadata`), durably, and reloads everything held in memory; the Raft log
   * restarts after it. Called from the Ready loop before the snapshot is recorded in the log.
   */
  installSnapshot?: (metadata: SnapshotMetadata) => Promise<void>;
  /**
   * Applied entries between log truncations (--snapshot-count; etcd's 100000). Every entry since
   * the last truncation stays in the log's in-memory mirror, as in etcd's MemoryStorage, so this
   * bounds that memory too: about (snapshotEntries + catchUpEntries) x the average entry size.
   */
  snapshotEntries?: number;
  /** This member became leader (true) or stopped being leader (false). */
  onLeadershipChange?: (leading: boolean) => void;
  /**
   * Applied entries kept after a truncation when there are peers, so a follower that was away
   * for a while catches up from the log (etcd's 5000; never more than snapshotEntries, so a
   * small --snapshot-count keeps a small log). A follower further behind gets a snapshot.
   */
  catchUpEntries?: number;
  /** The driver failed (a write, fsync or apply threw) and stopped: entries in flight are lost to their callers. */
  onFailure?: (err: Error) => void;
  logger?: ConsensusLogger;
}

interface Proposal {
  data: Uint8Array;
  resolve?: () => void;
  reject: (e: unknown) => void;
  /** Until when it may wait for a leader. */
  deadline: number;
}

interface ReadWaiter {
  resolve: (index: bigint) => void;
  reject: (e: unknown) => void;
  /** Until when it may wait for a leader. */
  deadline: number;
}

/**
 * Drives a RaftNode: ticks it, runs the Ready loop (persist with group commit, send, apply,
 * serve reads, advance; one Ready at a time) and batches the proposals and read-index
 * requests of one event-loop turn into one step each.
 */
export class RaftDriver {
  private readonly node: RaftNode;
  private readonly ticker: NodeJS.Timeout;
  private proposals: Proposal[] = [];
  private reads: ReadWaiter[] = [];
  /** Read-index rounds sent to Raft, by context (oldest first), until their ReadState arrives. */
  private readonly readRounds = new Map<
    string,
    { waiters: ReadWaiter[]; deadline: number; retryAt: number }
  >();
  private readonly readTimeoutMs: number;
  /** Answered rounds waiting for the apply loop to reach their index. */
  private readyReads: { index: bigint; waiters: ReadWaiter[] }[] = [];
  private readonly readyWaiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private nextReadCtx = 1n;
  private scheduled = false;
  private running: Promise<void> | undefined;
  private stopped = false;
  private leading = false;
  private failure: Error | undefined;
  private applied: bigint;
  private confState!: ConfState;
  private peered = false;
  private lastLeader = 0n;
  /** When the current leader became known here (etcd's leadElectedTime). */
  private leaderElectedAt = 0;
  private learner = false;
  private readonly startCommit: bigint;
  private readonly logger: ConsensusLogger;
  private readonly snapshotEntries: bigint;
  private readonly catchUpEntries: bigint;
  /** Peers a snapshot could not be sent to, and when that was last logged. */
  private readonly snapshotWarned = new Map<bigint, number>();

  private constructor(
    private readonly opts: RaftDriverOptions,
    private readonly log: RaftLogStore,
  ) {
    this.logger = opts.logger ?? silent;
    this.snapshotEntries = BigInt(opts.snapshotEntries ?? 100_000);
    this.catchUpEntries = BigInt(opts.catchUpEntries ?? Math.min(5_000, opts.snapshotEntries ?? 100_000));
    this.readTimeoutMs = opts.readTimeoutMs ?? 5000 + 2 * opts.electionMs;
    const { hardState, confState } = log.initialState();
    this.setConfState(confState);
    this.startCommit = hardState.commit;
    // The applier may be behind the log's start only if it lost state; never replay below it.
    const snapIndex = log.firstIndex() - 1n;
    this.applied = opts.applied > snapIndex ? opts.applied : snapIndex;
    if (this.applied > hardState.commit) {
      throw new Error(`applied index ${this.applied} is past the raft commit index ${hardState.commit}`);
    }
    log.trimMirror(this.applied);
    // As etcd: heartbeats every tick, the election timeout is a whole number of heartbeats.
    this.node = new RaftNode({
      id: opts.id,
      electionTick: Math.max(2, Math.round(opts.electionMs / opts.heartbeatMs)),
      heartbeatTick: 1,
      storage: log,
      applied: this.applied,
      checkQuorum: true,
      preVote: true,
    });
    this.ticker = setInterval(() => this.tick(), opts.heartbeatMs);
    this.ticker.unref();
  }

  /** Opens (or bootstraps) the log and starts the node; a sole voter campaigns at once. */
  static async open(opts: RaftDriverOptions): Promise<RaftDriver> {
    const log = await RaftLogStore.open(opts.engine);
    // A store that predates the log (or was restored) starts the log after what it applied.
    if (log.isEmpty()) {
      await log.bootstrap(
        opts.bootstrapVoters,
        opts.applied > 1n ? opts.applied : 1n,
        opts.bootstrapLearners,
      );
    } else if (opts.forceNewCluster) {
      const { voters, learners, votersOutgoing } = log.initialState().confState;
      const others = [...new Set([...voters, ...learners, ...votersOutgoing])].filter((id) => id !== opts.id);
      opts.logger?.warn('forcing a new cluster of this member alone', {
        removed: others.map((id) => id.toString(16)),
      });
      await log.forceNewCluster(others);
    }
    const driver = new RaftDriver(opts, log);
    const { voters, votersOutgoing } = driver.confState;
    // A cluster of one need not wait an election timeout: nobody else can lead it.
    if (voters.length === 1 && voters[0] === opts.id && votersOutgoing.length === 0) driver.node.campaign();
    driver.kick();
    return driver;
  }

  get term(): bigint {
    return this.node.raft.term;
  }
  get leaderId(): bigint {
    return this.node.leader();
  }
  get isLeader(): boolean {
    return this.node.raft.state === StateType.Leader;
  }
  get commitIndex(): bigint {
    return this.node.raft.raftLog.committed;
  }
  get lastIndex(): bigint {
    return this.node.raft.raftLog.lastIndex();
  }
  get appliedIndex(): bigint {
    return this.applied;
  }
  /** Whether the configuration has members besides this one (kept current on conf changes). */
  get hasPeers(): boolean {
    return this.peered;
  }

  /** Date.now() when this member last learned of a new leader. */
  get leaderSince(): number {
    return this.leaderElectedAt;
  }

  /** Whether this member is a learner of the current configuration. */
  get isLearner(): boolean {
    return this.learner;
  }

  /** Proposes a membership change; resolves once Raft accepted it (its apply follows). */
  proposeConfChange(cc: ConfChange): void {
    if (this.stopped) throw this.failure ?? new DriverStoppedError();
    this.node.proposeConfChange(cc);
    this.kick();
  }

  /** On the leader: how far `id`'s log matches, and the leader's own (etcd's learner readiness). */
  matchOf(id: bigint): { match: bigint; leaderMatch: bigint } | undefined {
    const progress = this.node.status().progress;
    const pr = progress?.get(id);
    const own = progress?.get(this.opts.id);
    return pr && own ? { match: pr.match, leaderMatch: own.match } : undefined;
  }

  /** Whether `id` is a voter of the current configuration. */
  isVoter(id: bigint): boolean {
    const { voters, votersOutgoing } = this.confState;
    return voters.includes(id) || votersOutgoing.includes(id);
  }

  /** Asks Raft (on the leader) to hand leadership to `id` once it is up to date. */
  transferLeadership(id: bigint): void {
    if (this.stopped) return;
    this.node.transferLeadership(id);
    this.kick();
  }

  /** Steps messages received from peers into the node. */
  step(messages: Message[]): void {
    if (this.stopped) return;
    for (const m of messages) {
      try {
        this.node.step(m);
      } catch (err) {
        this.logger.warn('dropped a raft message', { from: m.from.toString(16), error: String(err) });
      }
    }
    this.kick();
  }

  /**
   * Steps a snapshot message whose image is staged; true if Raft took it (it will come back in a
   * Ready for `installSnapshot`), false if Raft ignored it (e.g. it was not ahead of the log).
   */
  stepSnapshot(m: Message): boolean {
    this.step([m]);
    return this.node.raft.raftLog.unstable.snapshot?.metadata.index === m.snapshot?.metadata.index;
  }

  /** The transport could not deliver to `id`. */
  reportUnreachable(id: bigint): void {
    if (this.stopped) return;
    this.node.reportUnreachable(id);
  }

  reportSnapshot(id: bigint, status: SnapshotStatus): void {
    if (this.stopped) return;
    this.node.reportSnapshot(id, status);
    this.kick();
  }

  /**
   * Resolves once a leader is known and every entry committed before this start is applied,
   * i.e. when the member may serve clients.
   */
  whenReady(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.isServing()) return Promise.resolve();
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  /**
   * Proposes one entry. Resolves once Raft accepted it (it is in the log; its apply follows),
   * rejects with ProposalDroppedError if it could not be proposed (no leader, ...).
   */
  propose(data: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => this.submit(data, reject, resolve));
  }

  /**
   * Like propose, without a promise per entry (the hot path: the caller already waits for the
   * apply): `onDropped` is called if the entry could not be proposed.
   */
  submit(data: Uint8Array, onDropped: (err: unknown) => void, onAccepted?: () => void): void {
    if (this.stopped) return onDropped(this.failure ?? new DriverStoppedError());
    this.proposals.push({
      data,
      resolve: onAccepted,
      reject: onDropped,
      deadline: Date.now() + this.readTimeoutMs,
    });
    this.schedule();
  }

  /** Resolves with a read index once this member has applied up to it (linearizable reads). */
  readIndex(): Promise<bigint> {
    if (this.stopped) return Promise.reject(this.failure ?? new DriverStoppedError());
    return new Promise((resolve, reject) => {
      this.reads.push({ resolve, reject, deadline: Date.now() + this.readTimeoutMs });
      this.schedule();
    });
  }

  /** Stops ticking and accepting work, lets the Ready in flight finish, fails what is left. */
  async stop(): Promise<void> {
    if (this.stopped && !this.running) return;
    this.stopped = true;
    clearInterval(this.ticker);
    while (this.running) await this.running;
    this.failAll(this.failure ?? new DriverStoppedError());
  }

  private tick(): void {
    if (this.stopped) return;
    this.node.tick();
    this.expireReads();
    if (this.proposals.length > 0 || this.reads.length > 0) {
      if (this.node.leader() === 0n) this.expireHeld();
      else this.schedule();
    }
    this.kick();
  }

  /**
   * Fails the proposals and reads that waited for a leader until their deadline, as etcd does
   * (a write is then never proposed; a read times out).
   */
  private expireHeld(): void {
    const now = Date.now();
    if (this.proposals.length > 0 && this.proposals[0].deadline <= now) {
      const expired = this.proposals.filter((p) => p.deadline <= now);
      this.proposals = this.proposals.filter((p) => p.deadline > now);
      for (const p of expired) p.reject(new NoLeaderTimeoutError());
    }
    if (this.reads.length > 0 && this.reads[0].deadline <= now) {
      const expired = this.reads.filter((r) => r.deadline <= now);
      this.reads = this.reads.filter((r) => r.deadline > now);
      for (const r of expired) r.reject(new ReadTimeoutError());
    }
  }

  /**
   * Fails read rounds that got no answer in time, and asks again (with a new context) for those
   * unanswered for an election timeout: a request or answer lost between members would
   * otherwise hold its reads until the timeout.
   */
  private expireReads(): void {
    if (this.readRounds.size === 0) return;
    const now = Date.now();
    for (const [key, round] of [...this.readRounds]) {
      if (round.deadline <= now) {
        this.readRounds.delete(key);
        const err = new ReadTimeoutError();
        for (const w of round.waiters) w.reject(err);
      } else if (round.retryAt <= now) {
        this.readRounds.delete(key);
        this.requestReadIndex(round.waiters, round.deadline);
      }
    }
  }

  /** Sends one read-index request for `waiters`; they settle when its ReadState is applied. */
  private requestReadIndex(waiters: ReadWaiter[], deadline: number): void {
    // Unique across members: the leader tracks pending reads by context, and followers' rounds meet there.
    const ctx = Buffer.allocUnsafe(16);
    ctx.writeBigUInt64BE(this.opts.id, 0);
    ctx.writeBigUInt64BE(this.nextReadCtx++, 8);
    try {
      this.node.readIndex(ctx);
      this.readRounds.set(ctx.toString('latin1'), {
        waiters,
        deadline,
        retryAt: Date.now() + this.opts.electionMs,
      });
    } catch (err) {
      for (const w of waiters) w.reject(err);
      if (!(err instanceof ProposalDroppedError)) this.fail(err);
    }
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // Everything that arrives in this turn of the event loop goes to Raft as one step.
    setImmediate(() => {
      this.scheduled = false;
      this.flushRequests();
      this.kick();
    });
  }

  private flushRequests(): void {
    // Without a leader, proposals and reads wait (as etcd's do) until one is known: the tick
    // flushes them then, or fails them at their deadline.
    if (this.stopped || this.node.leader() === 0n) return;
    if (this.proposals.length > 0) {
      const batch = this.proposals;
      this.proposals = [];
      try {
        const datas = new Array<Uint8Array>(batch.length);
        for (let i = 0; i < batch.length; i++) datas[i] = batch[i].data;
        this.node.proposeBatch(datas);
        for (const p of batch) p.resolve?.();
      } catch (err) {
        for (const p of batch) p.reject(err);
        if (!(err instanceof ProposalDroppedError)) this.fail(err);
      }
    }
    if (this.reads.length > 0) {
      const waiters = this.reads;
      this.reads = [];
      this.requestReadIndex(waiters, waiters[0].deadline);
    }
  }

  /** Starts the Ready loop if there is work and it is not running. */
  private kick(): void {
    if (this.running || this.stopped || !this.node.hasReady()) return;
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
  }

  private async loop(): Promise<void> {
    try {
      while (!this.stopped && this.node.hasReady()) {
        await this.handle(this.node.ready());
        this.node.advance();
        this.afterAdvance();
      }
    } catch (err) {
      this.fail(err);
    }
  }

  private async handle(rd: Ready): Promise<void> {
    if (rd.softState) this.onSoftState(rd.softState.lead, rd.softState.raftState);
    if (rd.messages.length > 0) this.send(rd.messages);
    if (rd.snapshot) await this.installSnapshot(rd.snapshot.metadata);
    this.log.persist(rd);
    // Nothing is written to the engine while the fsync runs: RocksDB queues a write behind a
    // synced one, so an apply here would hold the event loop for the whole fsync. The loop
    // serves requests meanwhile instead, and applies once the log is durable.
    if (rd.mustSync) await this.opts.engine.sync();
    if (rd.messagesAfterPersist.length > 0) this.send(rd.messagesAfterPersist);
    if (rd.committedEntries.length > 0) this.applyEntries(rd.committedEntries);
    for (const rs of rd.readStates) this.onReadState(rs);
  }

  private setConfState(cs: ConfState): void {
    this.confState = cs;
    const ids = new Set([...cs.voters, ...cs.learners, ...cs.votersOutgoing]);
    ids.delete(this.opts.id);
    this.peered = ids.size > 0;
    this.learner = cs.learners.includes(this.opts.id);
    this.opts.onConfState?.(cs);
  }

  /** The state machine takes the snapshot's image; Raft's log restarts after it. */
  private async installSnapshot(metadata: SnapshotMetadata): Promise<void> {
    if (!this.opts.installSnapshot) throw new Error('received a snapshot but cannot install one');
    this.logger.info('installing a snapshot', {
      index: metadata.index.toString(),
      term: metadata.term.toString(),
    });
    await this.opts.installSnapshot(metadata);
    this.applied = metadata.index;
    this.setConfState(metadata.confState);
    // Reads waiting for an index the snapshot covers are served from the new state.
    this.serveReads();
    this.logger.info('installed a snapshot', { index: metadata.index.toString() });
  }

  private send(messages: Message[]): void {
    if (!this.opts.send) return;
    if (!messages.some((m) => m.type === MessageType.Snap)) return this.opts.send(messages);
    const sendSnapshot = this.opts.sendSnapshot;
    if (sendSnapshot) {
      for (const m of messages) {
        if (m.type !== MessageType.Snap) continue;
        // Raft's snapshot is the log's start; the image is the store as applied now, newer.
        const metadata = {
          index: this.applied,
          term: this.log.term(this.applied),
          confState: this.confState,
        };
        sendSnapshot({ ...m, snapshot: { data: new Uint8Array(0), metadata } });
      }
      return this.opts.send(messages.filter((m) => m.type !== MessageType.Snap));
    }
    // Without a way to ship the store's data, a follower installing the metadata alone would
    // skip entries. Raft retries; the follower stays behind.
    const now = Date.now();
    for (const m of messages) {
      if (m.type !== MessageType.Snap) continue;
      if (now - (this.snapshotWarned.get(m.to) ?? -Infinity) > 10_000) {
        this.snapshotWarned.set(m.to, now);
        this.logger.error(
          'a follower is behind the compacted log and needs a snapshot, which is not supported yet',
          {
            peer: m.to.toString(16),
            'snapshot-index': m.snapshot?.metadata.index.toString(),
          },
        );
      }
      this.node.reportSnapshot(m.to, SnapshotStatus.Failure);
    }
    this.opts.send(messages.filter((m) => m.type !== MessageType.Snap));
  }

  private applyEntries(entries: Entry[]): void {
    for (const e of entries) {
      if (e.type === EntryType.Normal) continue;
      const cc = decodeConfChangeEntry(e);
      if (cc && (this.opts.onConfChange?.(cc, e) ?? true)) this.setConfState(this.node.applyConfChange(cc));
    }
    this.opts.apply(entries);
    this.applied = entries[entries.length - 1].index;
    this.serveReads();
    // The store holds everything applied: the log before it is only needed by slow followers.
    this.log.trimMirror(this.applied);
    const keep = this.hasPeers ? this.catchUpEntries : 0n;
    if (this.applied - this.log.firstIndex() + 1n >= this.snapshotEntries + keep) {
      this.log.compact(this.applied - keep, this.confState);
    }
  }

  private onReadState(rs: ReadState): void {
    const key = Buffer.from(rs.requestCtx).toString('latin1');
    const round = this.readRounds.get(key);
    if (!round) return;
    this.readRounds.delete(key);
    this.readyReads.push({ index: rs.index, waiters: round.waiters });
    this.serveReads();
  }

  private serveReads(): void {
    if (this.readyReads.length === 0) return;
    const still: typeof this.readyReads = [];
    for (const r of this.readyReads) {
      if (r.index <= this.applied) for (const w of r.waiters) w.resolve(r.index);
      else still.push(r);
    }
    this.readyReads = still;
  }

  private onSoftState(lead: bigint, state: StateType): void {
    if (lead !== 0n && lead !== this.lastLeader) this.leaderElectedAt = Date.now();
    this.lastLeader = lead;
    this.logger.info('raft state changed', {
      term: this.node.raft.term.toString(),
      leader: lead.toString(16),
      state: StateType[state],
    });
    if ((state === StateType.Leader) !== this.leading) {
      this.leading = !this.leading;
      this.opts.onLeadershipChange?.(this.leading);
    }
    // Read rounds of a leader that lost its role may never be answered.
    if (lead === 0n || state !== StateType.Leader) {
      const err = new ProposalDroppedError('leader changed');
      for (const r of this.readRounds.values()) for (const w of r.waiters) w.reject(err);
      this.readRounds.clear();
    }
  }

  private afterAdvance(): void {
    if (this.readyWaiters.length > 0 && this.isServing()) {
      for (const w of this.readyWaiters.splice(0)) w.resolve();
    }
  }

  /**
   * A leader is known and this member has applied what was committed before it started; a
   * leader has also applied an entry of its own term, so its commit index is the cluster's.
   */
  private isServing(): boolean {
    if (this.node.leader() === 0n || this.applied < this.startCommit) return false;
    if (!this.isLeader) return true;
    const log = this.node.raft.raftLog;
    return this.applied === log.committed && log.term(log.committed) === this.node.raft.term;
  }

  /** A persistence or apply failure: this member cannot go on safely. */
  private fail(err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    const first = !this.failure;
    if (first) this.logger.error('raft driver failed', { error: error.message });
    this.failure ??= new DriverStoppedError(`raft driver failed: ${error.message}`);
    this.stopped = true;
    clearInterval(this.ticker);
    this.failAll(this.failure);
    if (first) this.opts.onFailure?.(this.failure);
  }

  private failAll(err: Error): void {
    for (const p of this.proposals.splice(0)) p.reject(err);
    for (const w of this.reads.splice(0)) w.reject(err);
    for (const r of this.readRounds.values()) for (const w of r.waiters) w.reject(err);
    this.readRounds.clear();
    for (const r of this.readyReads.splice(0)) for (const w of r.waiters) w.reject(err);
    for (const w of this.readyWaiters.splice(0)) w.reject(err);
  }
}
