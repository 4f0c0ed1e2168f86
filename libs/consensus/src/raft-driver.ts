import {
  ConfState,
  Entry,
  EntryType,
  Message,
  ProposalDroppedError,
  RaftNode,
  ReadState,
  Ready,
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

export interface RaftDriverOptions {
  id: bigint;
  engine: Engine;
  /** Voters of a new cluster, used only when the log is empty (first start). */
  bootstrapVoters: bigint[];
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
  /** Sends messages to peers (none in a cluster of one). */
  send?: (messages: Message[]) => void;
  /** Applied entries kept in the log before it is truncated. */
  snapshotEntries?: number;
  /** This member became leader (true) or stopped being leader (false). */
  onLeadershipChange?: (leading: boolean) => void;
  /** The driver failed (a write, fsync or apply threw) and stopped: entries in flight are lost to their callers. */
  onFailure?: (err: Error) => void;
  logger?: ConsensusLogger;
}

interface Proposal {
  data: Uint8Array;
  resolve?: () => void;
  reject: (e: unknown) => void;
}

interface ReadWaiter {
  resolve: (index: bigint) => void;
  reject: (e: unknown) => void;
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
  /** Read-index rounds sent to Raft, by context, until their ReadState arrives. */
  private readonly readRounds = new Map<string, ReadWaiter[]>();
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
  private confState: ConfState;
  private readonly startCommit: bigint;
  private readonly logger: ConsensusLogger;
  private readonly snapshotEntries: bigint;

  private constructor(
    private readonly opts: RaftDriverOptions,
    private readonly log: RaftLogStore,
  ) {
    this.logger = opts.logger ?? silent;
    this.snapshotEntries = BigInt(opts.snapshotEntries ?? 10_000);
    const { hardState, confState } = log.initialState();
    this.confState = confState;
    this.startCommit = hardState.commit;
    // The applier may be behind the log's start only if it lost state; never replay below it.
    const snapIndex = log.firstIndex() - 1n;
    this.applied = opts.applied > snapIndex ? opts.applied : snapIndex;
    if (this.applied > hardState.commit) {
      throw new Error(`applied index ${this.applied} is past the raft commit index ${hardState.commit}`);
    }
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
    if (log.isEmpty()) await log.bootstrap(opts.bootstrapVoters, opts.applied > 1n ? opts.applied : 1n);
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
    this.proposals.push({ data, resolve: onAccepted, reject: onDropped });
    this.schedule();
  }

  /** Resolves with a read index once this member has applied up to it (linearizable reads). */
  readIndex(): Promise<bigint> {
    if (this.stopped) return Promise.reject(this.failure ?? new DriverStoppedError());
    return new Promise((resolve, reject) => {
      this.reads.push({ resolve, reject });
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
    this.kick();
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
    if (this.stopped) return;
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
      const ctx = Buffer.allocUnsafe(8);
      ctx.writeBigUInt64BE(this.nextReadCtx++);
      try {
        this.node.readIndex(ctx);
        this.readRounds.set(ctx.toString('latin1'), waiters);
      } catch (err) {
        for (const w of waiters) w.reject(err);
        if (!(err instanceof ProposalDroppedError)) this.fail(err);
      }
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
    if (rd.messages.length > 0) this.opts.send?.(rd.messages);
    const durableLast = this.log.lastIndex();
    this.log.persist(rd);
    const synced = rd.mustSync ? this.opts.engine.sync() : undefined;
    let committed = rd.committedEntries;
    if (synced) {
      // Entries made durable by an earlier Ready are applied while this Ready's fsync runs.
      const firstNew = rd.entries.length > 0 ? rd.entries[0].index : durableLast + 1n;
      const limit = rd.snapshot ? 0n : minBig(durableLast, firstNew - 1n);
      let n = 0;
      while (n < committed.length && committed[n].index <= limit) n++;
      if (n > 0) this.applyEntries(committed.slice(0, n));
      committed = committed.slice(n);
      await synced;
    }
    if (rd.messagesAfterPersist.length > 0) this.opts.send?.(rd.messagesAfterPersist);
    if (committed.length > 0) this.applyEntries(committed);
    for (const rs of rd.readStates) this.onReadState(rs);
  }

  private applyEntries(entries: Entry[]): void {
    for (const e of entries) {
      if (e.type === EntryType.Normal) continue;
      const cc = decodeConfChangeEntry(e);
      if (cc) this.confState = this.node.applyConfChange(cc);
    }
    this.opts.apply(entries);
    this.applied = entries[entries.length - 1].index;
    this.serveReads();
    // The store holds everything applied: the log before it is only needed by slow followers.
    if (this.applied - this.log.firstIndex() + 1n >= this.snapshotEntries) {
      this.log.compact(this.applied, this.confState);
    }
  }

  private onReadState(rs: ReadState): void {
    const key = Buffer.from(rs.requestCtx).toString('latin1');
    const waiters = this.readRounds.get(key);
    if (!waiters) return;
    this.readRounds.delete(key);
    this.readyReads.push({ index: rs.index, waiters });
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
      for (const ws of this.readRounds.values()) for (const w of ws) w.reject(err);
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
    for (const ws of this.readRounds.values()) for (const w of ws) w.reject(err);
    this.readRounds.clear();
    for (const r of this.readyReads.splice(0)) for (const w of r.waiters) w.reject(err);
    for (const w of this.readyWaiters.splice(0)) w.reject(err);
  }
}

function minBig(...xs: bigint[]): bigint {
  return xs.reduce((a, b) => (b < a ? b : a));
}
