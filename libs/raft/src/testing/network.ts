// A deterministic in-process network of Raft nodes for tests: a fake clock,
// a message queue that can drop, delay, duplicate and reorder, partitions,
// crashes that lose unpersisted state, and restarts from persisted state.
// Every run is a pure function of its seed and the calls made on it.
import { decodeConfChangeEntry, decodeMessage, encodeMessage } from '../codec';
import { ConfigError, ProposalDroppedError } from '../errors';
import { RaftLogger } from '../logger';
import { RaftNode, Ready, bootstrapStorage } from '../node';
import { RaftConfig } from '../raft';
import { SeededRandom } from '../rand';
import { MemoryStorage } from '../storage';
import {
  ConfState,
  Entry,
  EntryType,
  Message,
  MessageType,
  ReadState,
  Snapshot,
  SnapshotStatus,
  StateType,
  emptyConfState,
} from '../types';
import { InvariantChecker } from './invariants';

export interface NetworkOptions {
  seed: number;
  /** Founding voters (bootstrapped with a common initial snapshot). */
  voters: bigint[];
  /** Founding learners. */
  learners?: bigint[];
  /** Overrides for every node's config (electionTick, preVote, ...). */
  raft?: Partial<Omit<RaftConfig, 'id' | 'storage'>>;
  /** Per-node overrides. */
  perNode?: (id: bigint) => Partial<Omit<RaftConfig, 'id' | 'storage'>>;
  /** Route every message through the protobuf codec. */
  encode?: boolean;
  /** Simulation steps per tick (messages take at least one step). Default 4. */
  stepsPerTick?: number;
  /** Create a snapshot and compact when this many entries are applied past the last snapshot (0 = never). */
  compactEvery?: number;
  /** Entries kept in the log behind a compaction. */
  compactKeep?: number;
  /** Check invariants after every step (default true). */
  checkInvariants?: boolean;
  logger?: RaftLogger;
}

export interface Faults {
  dropRate: number;
  duplicateRate: number;
  /** Extra delay in steps, uniformly in [0, maxDelay]. */
  maxDelay: number;
  /** Probability that a Ready is persisted in a later step than its early messages are sent. */
  splitReadyRate: number;
  /** Probability that a message lost to a partition or crash is reported unreachable to its sender. */
  reportUnreachableRate: number;
}

export const NO_FAULTS: Faults = {
  dropRate: 0,
  duplicateRate: 0,
  maxDelay: 0,
  splitReadyRate: 0,
  reportUnreachableRate: 0,
};

interface Envelope {
  m: Message;
}

/** A simulated member: its durable storage survives crashes; everything else does not. */
export class SimNode {
  node: RaftNode | undefined;
  readonly storage = new MemoryStorage();
  /** A Ready whose early messages were sent but which is not yet persisted. */
  pending: Ready | undefined;
  // The replicated state machine: a digest of every applied entry.
  appliedIndex = 0n;
  digest = 0;
  appliedCount = 0;
  confState: ConfState = emptyConfState();
  /** Normal entries applied since the last (re)start, in order (for scenario assertions). */
  applied: Entry[] = [];
  readStates: ReadState[] = [];
  /** Stopped for good (removed from the cluster); never restarted. */
  stopped = false;

  constructor(readonly id: bigint) {}

  get alive(): boolean {
    return this.node !== undefined;
  }

  /** Applied normal entries' payloads as strings (scenario tests use text payloads). */
  appliedData(): string[] {
    return this.applied
      .filter((e) => e.type === EntryType.Normal && e.data.length > 0)
      .map((e) => Buffer.from(e.data).toString());
  }
}

const FNV_PRIME = 16777619;

function fnv(h: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

function fnvBig(h: number, v: bigint): number {
  let x = BigInt.asUintN(64, v);
  for (let i = 0; i < 8; i++) {
    h ^= Number(x & 0xffn);
    h = Math.imul(h, FNV_PRIME);
    x >>= 8n;
  }
  return h >>> 0;
}

export class Network {
  readonly rng: SeededRandom;
  readonly nodes = new Map<bigint, SimNode>();
  readonly checker: InvariantChecker;
  faults: Faults = { ...NO_FAULTS };
  /** Return false to drop a message (scenario tests use this to cut specific links or types). */
  filter: ((m: Message) => boolean) | undefined;
  /** Called for every message put on the wire (after filtering), for scenario assertions. */
  onSend: ((m: Message) => void) | undefined;
  now = 0;
  private seq = 0;
  private readonly queue = new Map<number, Envelope[]>();
  private queued = 0;
  private group = new Map<bigint, number>();
  private readonly stepsPerTick: number;
  readonly opts: NetworkOptions;
  stats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0, ticks: 0, snapshotsSent: 0 };

  constructor(opts: NetworkOptions) {
    this.opts = opts;
    this.rng = new SeededRandom(opts.seed);
    this.stepsPerTick = opts.stepsPerTick ?? 4;
    this.checker = new InvariantChecker(this);
    for (const id of [...opts.voters, ...(opts.learners ?? [])]) {
      const sn = new SimNode(id);
      bootstrapStorage(sn.storage, opts.voters, opts.learners ?? []);
      this.nodes.set(id, sn);
      this.start(sn);
    }
  }

  // ------------------------------------------------------------ membership of the simulation

  node(id: bigint): SimNode {
    const sn = this.nodes.get(id);
    if (!sn) throw new Error(`no node ${id}`);
    return sn;
  }

  raft(id: bigint): RaftNode {
    const n = this.node(id).node;
    if (!n) throw new Error(`node ${id} is down`);
    return n;
  }

  /** Creates and starts a brand-new member with empty storage (to be added by a conf change). */
  addNode(id: bigint): SimNode {
    if (this.nodes.has(id)) throw new Error(`node ${id} exists`);
    const sn = new SimNode(id);
    this.nodes.set(id, sn);
    this.start(sn);
    return sn;
  }

  private start(sn: SimNode): void {
    const snap = sn.storage.snapshot();
    // The state machine restarts from the last snapshot and replays the log.
    this.restoreStateMachine(sn, snap);
    sn.applied = [];
    const cfg: RaftConfig = {
      id: sn.id,
      electionTick: 10,
      heartbeatTick: 1,
      storage: sn.storage,
      applied: snap.metadata.index,
      maxSizePerMsg: 4096,
      maxInflightMsgs: 16,
      seed: this.rng.intn(0x7fffffff),
      logger: this.opts.logger,
      ...this.opts.raft,
      ...(this.opts.perNode ? this.opts.perNode(sn.id) : {}),
    };
    sn.node = new RaftNode(cfg);
    sn.pending = undefined;
    sn.readStates = [];
  }

  private restoreStateMachine(sn: SimNode, snap: Snapshot): void {
    sn.appliedIndex = snap.metadata.index;
    sn.confState = snap.metadata.confState;
    if (snap.data.length === 0) {
      sn.digest = 0;
      sn.appliedCount = 0;
    } else {
      const o = JSON.parse(Buffer.from(snap.data).toString()) as { d: number; n: number };
      sn.digest = o.d;
      sn.appliedCount = o.n;
    }
  }

  /** Crash: everything not persisted (unstable log, pending Ready, state machine) is lost. */
  crash(id: bigint): void {
    const sn = this.node(id);
    sn.node = undefined;
    sn.pending = undefined;
  }

  restart(id: bigint): void {
    const sn = this.node(id);
    if (sn.alive) throw new Error(`node ${id} is running`);
    if (sn.stopped) throw new Error(`node ${id} was stopped for good`);
    this.start(sn);
  }

  /** Shuts a member down for good (e.g. after it was removed from the cluster). */
  stop(id: bigint): void {
    this.crash(id);
    this.node(id).stopped = true;
  }

  // ------------------------------------------------------------ partitions

  /** Splits the nodes into groups that cannot talk across; unlisted nodes form their own group. */
  partition(groups: bigint[][]): void {
    this.group = new Map();
    let g = 1;
    for (const grp of groups) {
      for (const id of grp) this.group.set(id, g);
      g++;
    }
    for (const id of this.nodes.keys()) if (!this.group.has(id)) this.group.set(id, g++);
  }

  /** Cuts one node off from everyone else. */
  isolate(id: bigint): void {
    const others = [...this.nodes.keys()].filter((x) => x !== id);
    this.partition([others, [id]]);
  }

  /** Removes partitions (faults and filters stay as they are). */
  healPartitions(): void {
    this.group = new Map();
  }

  connected(a: bigint, b: bigint): boolean {
    return (this.group.get(a) ?? 0) === (this.group.get(b) ?? 0);
  }

  // ------------------------------------------------------------ messages

  private enqueue(m: Message, delay: number): void {
    const at = this.now + 1 + delay;
    let bucket = this.queue.get(at);
    if (!bucket) {
      bucket = [];
      this.queue.set(at, bucket);
    }
    // Each delivery gets its own copy: the receiver may mutate and re-send it.
    bucket.push({ m: this.opts.encode ? decodeMessage(encodeMessage(m)) : { ...m } });
    this.queued++;
  }

  private sendAll(from: SimNode, msgs: Message[]): void {
    for (const m of msgs) {
      this.stats.sent++;
      if (this.filter && !this.filter(m)) {
        this.lost(from, m);
        continue;
      }
      if (this.faults.dropRate > 0 && this.rng.next() < this.faults.dropRate) {
        this.lost(from, m);
        continue;
      }
      this.onSend?.(m);
      const f = this.faults;
      this.enqueue(m, f.maxDelay > 0 ? this.rng.intn(f.maxDelay + 1) : 0);
      if (f.duplicateRate > 0 && this.rng.next() < f.duplicateRate) {
        this.stats.duplicated++;
        this.enqueue(m, f.maxDelay > 0 ? this.rng.intn(f.maxDelay + 1) : 0);
      }
    }
  }

  private lost(from: SimNode, m: Message): void {
    this.stats.dropped++;
    if (m.type === MessageType.Snap && from.node) from.node.reportSnapshot(m.to, SnapshotStatus.Failure);
  }

  private deliver(env: Envelope): void {
    const m = env.m;
    const to = this.nodes.get(m.to);
    const from = this.nodes.get(m.from);
    if (!to || !to.node || !this.connected(m.from, m.to)) {
      this.stats.dropped++;
      if (
        from?.node &&
        this.faults.reportUnreachableRate > 0 &&
        this.rng.next() < this.faults.reportUnreachableRate
      ) {
        from.node.reportUnreachable(m.to);
      }
      if (m.type === MessageType.Snap && from?.node) from.node.reportSnapshot(m.to, SnapshotStatus.Failure);
      return;
    }
    this.stats.delivered++;
    to.node.step(m);
    if (m.type === MessageType.Snap) {
      this.stats.snapshotsSent++;
      from?.node?.reportSnapshot(m.to, SnapshotStatus.Finish);
    }
  }

  /** Messages waiting in the network. */
  inFlight(): number {
    return this.queued;
  }

  // ------------------------------------------------------------ the driver loop

  /** Handles every available Ready of a node, the way libs/consensus will. */
  processReady(sn: SimNode, allowSplit: boolean): void {
    let guard = 0;
    while (sn.node) {
      if (++guard > 10000) throw new Error(`node ${sn.id} never quiesces`);
      if (!sn.pending) {
        if (!sn.node.hasReady()) return;
        const rd = sn.node.ready();
        this.sendAll(sn, rd.messages);
        sn.pending = rd;
        if (allowSplit && this.faults.splitReadyRate > 0 && this.rng.next() < this.faults.splitReadyRate)
          return;
      }
      this.finishReady(sn);
    }
  }

  private finishReady(sn: SimNode): void {
    const rd = sn.pending!;
    const node = sn.node!;
    // Persist: snapshot, then entries, then hard state (one "synced write").
    if (rd.snapshot) {
      sn.storage.applySnapshot(rd.snapshot);
      this.restoreStateMachine(sn, rd.snapshot);
      this.checker.onSnapshotInstalled(sn, rd.snapshot);
    }
    if (rd.entries.length > 0) {
      this.checker.onPersistEntries(sn, rd.entries);
      sn.storage.append(rd.entries);
    }
    if (rd.hardState) sn.storage.setHardState(rd.hardState);
    this.sendAll(sn, rd.messagesAfterPersist);
    for (const e of rd.committedEntries) this.apply(sn, node, e);
    for (const rs of rd.readStates) {
      sn.readStates.push(rs);
      this.checker.onReadState(sn, rs);
    }
    sn.pending = undefined;
    node.advance();
    this.maybeCompact(sn);
  }

  private apply(sn: SimNode, node: RaftNode, e: Entry): void {
    if (e.index !== sn.appliedIndex + 1n) {
      throw new Error(`node ${sn.id} applies ${e.index} after ${sn.appliedIndex}`);
    }
    if (e.type !== EntryType.Normal) {
      const cc = decodeConfChangeEntry(e)!;
      try {
        sn.confState = node.applyConfChange(cc);
      } catch (err) {
        // An invalid change is ignored, identically on every member.
        if (!(err instanceof ConfigError)) throw err;
      }
    }
    sn.appliedIndex = e.index;
    sn.digest = fnv(fnvBig(fnvBig(sn.digest, e.index), e.term), e.data);
    sn.appliedCount++;
    sn.applied.push(e);
    this.checker.onApply(sn, e);
  }

  private maybeCompact(sn: SimNode): void {
    const every = this.opts.compactEvery ?? 0;
    if (every <= 0) return;
    const snapIndex = sn.storage.snapshot().metadata.index;
    if (sn.appliedIndex - snapIndex < BigInt(every)) return;
    const data = Buffer.from(JSON.stringify({ d: sn.digest, n: sn.appliedCount }));
    sn.storage.createSnapshot(sn.appliedIndex, sn.confState, data);
    const keep = BigInt(this.opts.compactKeep ?? 0);
    const upTo = sn.appliedIndex - keep;
    if (upTo >= sn.storage.firstIndex()) sn.storage.compact(upTo);
  }

  // ------------------------------------------------------------ time

  /** One simulation step: maybe a tick, deliver due messages, handle Readies, check invariants. */
  step(): void {
    this.now++;
    if (this.now % this.stepsPerTick === 0) {
      this.stats.ticks++;
      for (const sn of this.nodes.values()) sn.node?.tick();
    }
    const bucket = this.queue.get(this.now);
    if (bucket) {
      this.queue.delete(this.now);
      this.queued -= bucket.length;
      for (const env of bucket) this.deliver(env);
    }
    for (const sn of this.nodes.values()) this.processReady(sn, true);
    if (this.opts.checkInvariants !== false) this.checker.checkStep();
  }

  /** Runs whole ticks. */
  tick(n = 1): void {
    for (let i = 0; i < n * this.stepsPerTick; i++) this.step();
  }

  /**
   * Without advancing the clock, delivers messages and handles Readies until
   * nothing moves (delays and faults other than drops/filters are ignored).
   */
  stabilize(maxRounds = 10000): void {
    for (let round = 0; round < maxRounds; round++) {
      for (const sn of this.nodes.values()) this.processReady(sn, false);
      if (this.queued === 0) {
        if (this.opts.checkInvariants !== false) this.checker.checkStep();
        return;
      }
      const times = [...this.queue.keys()].sort((a, b) => a - b);
      for (const t of times) {
        const bucket = this.queue.get(t)!;
        this.queue.delete(t);
        this.queued -= bucket.length;
        for (const env of bucket) this.deliver(env);
        for (const sn of this.nodes.values()) this.processReady(sn, false);
      }
      if (this.opts.checkInvariants !== false) this.checker.checkStep();
    }
    throw new Error('network did not stabilize');
  }

  /** Drops every message in flight. */
  clearQueue(): void {
    this.queue.clear();
    this.queued = 0;
  }

  // ------------------------------------------------------------ queries and helpers

  liveNodes(): SimNode[] {
    return [...this.nodes.values()].filter((sn) => sn.alive);
  }

  /** The live leader with the highest term, if any. */
  leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const sn of this.nodes.values()) {
      const r = sn.node?.raft;
      if (r && r.state === StateType.Leader && (!best || r.term > best.node!.raft.term)) best = sn;
    }
    return best;
  }

  leaderId(): bigint | undefined {
    return this.leader()?.id;
  }

  /** Ticks until some node is leader (and, if `settle`, the network is quiet). Returns its id. */
  waitForLeader(maxTicks = 200): bigint {
    for (let i = 0; i < maxTicks; i++) {
      const l = this.leader();
      if (l && this.stableLeader(l)) return l.id;
      this.tick();
    }
    throw new Error(`no leader within ${maxTicks} ticks`);
  }

  private stableLeader(l: SimNode): boolean {
    // A leader whose term is known to a majority of its own config.
    const r = l.node!.raft;
    const voters = r.trk.voterNodes();
    let agree = 0;
    for (const id of voters) {
      const n = this.nodes.get(id)?.node?.raft;
      if (n && n.term === r.term && n.lead === l.id) agree++;
    }
    return agree > voters.length / 2;
  }

  /** Proposes text data on a node; returns false if the proposal was dropped. */
  propose(id: bigint, data: string | Uint8Array): boolean {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    try {
      this.raft(id).propose(bytes);
      return true;
    } catch (e) {
      if (e instanceof ProposalDroppedError) return false;
      throw e;
    }
  }

  /** The membership as seen by the live node that applied the most. */
  latestConfState(): ConfState {
    let best: SimNode | undefined;
    for (const sn of this.nodes.values()) {
      if (!sn.alive) continue;
      if (!best || sn.appliedIndex > best.appliedIndex) best = sn;
    }
    return best ? best.confState : emptyConfState();
  }

  /** Every id in a conf state. */
  static members(cs: ConfState): bigint[] {
    return [...new Set([...cs.voters, ...cs.votersOutgoing, ...cs.learners, ...cs.learnersNext])];
  }

  /** Whether there is any message of type t in flight. */
  hasQueued(pred: (m: Message) => boolean): boolean {
    for (const b of this.queue.values()) for (const env of b) if (pred(env.m)) return true;
    return false;
  }
}
