import {
  DriverStoppedError,
  NoLeaderTimeoutError,
  PeerCallError,
  PeerListener,
  PeerTransport,
  RaftDriver,
  RaftDriverOptions,
  RaftLogStore,
  ReadTimeoutError,
  SnapshotStaging,
  TlsMaterial,
} from '../../consensus/src';
import {
  ConfChange,
  ConfChangeType,
  ConfChangeV2,
  ConfState,
  Entry,
  EntryType,
  ProposalDroppedError,
} from '../../raft/src';
import { Engine, EngineOp, KeyTable } from '../../storage/src';
import { AppliedEntry, Applier, ApplyResult } from './applier';
import { Errors, EtcdError, GrpcCode } from './etcd-errors';
import { Uint64Bits, uint64FromBits } from './etcd-types';
import {
  InternalRequest,
  MemberAttributesRequest,
  decodeInternalRequest,
  encodeInternalRequest,
} from './internal-request';
import { Logger } from './logger';
import { ClusterMember, MemberRemovedError, Membership } from './membership';
import { applyToMembership, checkConfChange, encodeMemberContext } from './membership-changes';
import { LeaderCallHandler, Proposer } from './proposer';
import { settleable } from './settleable';
import { stateMachineImage } from './snapshot-image';
import { StateMachine } from './state-machine';

/** How long a member that applied its own removal keeps running before it stops (etcd: 1 s). */
const REMOVED_MEMBER_LINGER_MS = 1000;

export interface RaftProposerOptions {
  memberId: bigint;
  clusterId: bigint;
  maxRequestBytes: number;
  heartbeatIntervalMs: number;
  electionTimeoutMs: number;
  /** This member became leader (true) or stopped being leader (false). */
  onLeadershipChange?: (leading: boolean) => void;
  /** --snapshot-count: applied entries between log truncations. */
  snapshotCount?: number;
  /** The cluster's members; updated as attribute entries are applied. */
  membership: Membership;
  /** Voters and learners of a new (or joined) cluster (first start only). */
  bootstrapVoters: bigint[];
  bootstrapLearners?: bigint[];
  /** --force-new-cluster (see RaftDriverOptions). */
  forceNewCluster?: boolean;
  /** Snapshots for followers behind the truncated log: staged here, installed over `stateMachine`. */
  snapshots?: { staging: SnapshotStaging; stateMachine: StateMachine };
  /** --listen-peer-urls; no peer transport when absent. */
  peerListeners?: PeerListener[];
  peerTls?: TlsMaterial;
  logger: Logger;
}

interface Waiter {
  /** Its place in `waiters`: proposals are numbered in the order they were made. */
  seq: number;
  request: InternalRequest;
  /** Its entry's payload, the key in `local`. */
  data: Uint8Array;
  resolve: (r: ApplyResult) => void;
  reject: (e: unknown) => void;
  /** When it times out, on the proposer's coarse clock. */
  deadline: number;
  /** Its id as a decimal string, when it may come back through another member's log. */
  key?: string;
  /** Raft took it; until then it waits for a leader and the driver decides when it fails. */
  accepted?: boolean;
}

/**
 * The write path through Raft: a request is proposed with a unique id inside its entry, and
 * its waiter is found again by that id when the entry is applied (as etcd does), since the
 * entry's index is only known once the leader appends it. Committed entries are applied by
 * the Applier; entries without a request (a new leader's empty entry, conf changes) only
 * advance the applied index.
 */
export class RaftProposer implements Proposer {
  /**
   * Requests proposed here and not applied yet, by `seq` (so oldest first). A KeyTable, like
   * byId, because a request per put comes and goes (see KeyTable: a Set would promote them).
   */
  private readonly waiters = KeyTable.ofNumbers<Waiter>();
  private nextSeq = 0;
  /**
   * The same, by request id, when there are peers: a follower's proposal reaches the log
   * through the leader and comes back as other bytes, found again by the id inside.
   */
  private readonly byId = KeyTable.ofStrings<Waiter>();
  /**
   * The same, by their entry's payload: a leader's log hands back the very bytes it was given,
   * so the apply step finds the waiter, and the request as proposed, without decoding. Weak,
   * and emptied as waiters settle: the in-memory Raft log keeps each payload until the log is
   * truncated (up to --snapshot-count entries), and a settled waiter must not live as long.
   */
  private readonly local = new WeakMap<Uint8Array, Waiter>();
  // The next id's 32-bit halves (a Long for protobufjs: a decimal string costs a parse).
  private idHigh: number;
  private idLow: number;
  private stopped = false;
  private driver!: RaftDriver;
  private transport: PeerTransport | undefined;
  /** etcd's request timeout: 5 s plus two election timeouts. */
  private readonly timeoutMs: number;
  /** Date.now() as of the last sweep: deadlines need no clock read per request. */
  private clock = Date.now();
  private readonly sweeper: NodeJS.Timeout;
  private readonly leaderCalls = new Map<string, LeaderCallHandler>();
  /** Membership changes proposed here, by conf change id, until applied. */
  private readonly confWaiters = new Map<bigint, { resolve: () => void; reject: (e: unknown) => void }>();
  /** Applied since the last batch was written: members' attributes, a conf change. */
  private membersChanged = false;
  private confChanged = false;
  /** Raft's configuration as of the entries being applied. */
  private confState: ConfState | undefined;
  /** Settles once this member learns it was removed from the cluster (see `removed`). */
  private readonly removal = settleable();

  private constructor(
    private readonly applier: Applier,
    private readonly opts: RaftProposerOptions,
  ) {
    this.timeoutMs = 5000 + 2 * opts.electionTimeoutMs;
    this.sweeper = setInterval(() => this.sweep(), Math.max(opts.heartbeatIntervalMs, 100));
    this.sweeper.unref();
    // etcd's id generator: the member id's low 16 bits, then milliseconds, then a counter, so
    // ids never repeat across members or restarts.
    const ms = BigInt(Date.now()) & ((1n << 40n) - 1n);
    const first = ((opts.memberId & 0xffffn) << 48n) | (ms << 8n);
    this.idHigh = Number(first >> 32n);
    this.idLow = Number(first & 0xffffffffn);
  }

  /**
   * Resolves once this member learns that it was removed from the cluster: it applied its own
   * removal, or a peer refused it as removed. It must then stop, as etcd's members do.
   */
  get removed(): Promise<void> {
    return this.removal.promise;
  }

  /**
   * Starts the peer transport, opens the Raft log (bootstrapping a new cluster on first start)
   * and waits until the member may serve: a leader is known and the log is replayed.
   */
  static async open(engine: Engine, applier: Applier, opts: RaftProposerOptions): Promise<RaftProposer> {
    if (opts.membership.isRemoved(opts.memberId)) throw new MemberRemovedError();
    const proposer = new RaftProposer(applier, opts);
    try {
      if (opts.peerListeners) {
        proposer.transport = await PeerTransport.start({
          memberId: opts.memberId,
          clusterId: opts.clusterId,
          listen: opts.peerListeners,
          tls: opts.peerTls,
          peers: opts.membership.peersOf(opts.memberId),
          members: () => opts.membership.toJson(),
          snapshots: opts.snapshots?.staging,
          // Messages that arrive before the driver exists are lost: Raft sends again.
          sink: {
            deliver: (messages) => proposer.driver?.step(messages),
            reportUnreachable: (id) => proposer.driver?.reportUnreachable(id),
            reportSnapshot: (id, status) => proposer.driver?.reportSnapshot(id, status),
            deliverSnapshot: (m) => proposer.driver?.stepSnapshot(m) ?? false,
            removed: () => proposer.removal.resolve(),
          },
          isRemoved: (id) => opts.membership.isRemoved(id),
          logger: opts.logger,
        });
      }
      const transport = proposer.transport;
      proposer.driver = await RaftDriver.open({
        id: opts.memberId,
        engine,
        bootstrapVoters: opts.bootstrapVoters,
        bootstrapLearners: opts.bootstrapLearners,
        forceNewCluster: opts.forceNewCluster,
        applied: BigInt(applier.appliedIndex),
        apply: (entries) => proposer.apply(entries),
        heartbeatMs: opts.heartbeatIntervalMs,
        electionMs: opts.electionTimeoutMs,
        onLeadershipChange: opts.onLeadershipChange,
        readTimeoutMs: proposer.timeoutMs,
        snapshotEntries: opts.snapshotCount,
        send: transport ? (messages) => transport.send(messages) : undefined,
        ...(transport && opts.snapshots ? proposer.snapshotHooks(engine, transport, opts.snapshots) : {}),
        onConfChange: (cc) => proposer.onConfChange(cc),
        onConfState: (cs) => (proposer.confState = cs),
        // Accepted proposals wait for their apply, which will not come now.
        onFailure: () => proposer.failWaiters(),
        logger: opts.logger,
      });
    } catch (err) {
      clearInterval(proposer.sweeper);
      await proposer.transport?.stop();
      throw err;
    }
    try {
      // A removed member restarted from its data directory replays its removal or is told by
      // a peer: it never serves again.
      const removed = proposer.removed.then(() => Promise.reject(new MemberRemovedError()));
      await Promise.race([proposer.driver.whenReady(), removed]);
    } catch (err) {
      await proposer.stop();
      throw err;
    }
    return proposer;
  }

  /** The driver's snapshot hooks: images of this member's state out, staged images in. */
  private snapshotHooks(
    engine: Engine,
    transport: PeerTransport,
    { staging, stateMachine }: { staging: SnapshotStaging; stateMachine: StateMachine },
  ): Pick<RaftDriverOptions, 'sendSnapshot' | 'installSnapshot'> {
    return {
      sendSnapshot: (m) =>
        transport.sendSnapshot(m, stateMachineImage(engine, staging.keys, m.snapshot!.metadata.index)),
      installSnapshot: async (metadata) => {
        await stateMachine.install(staging, metadata);
        this.linkMembers(transport);
      },
    };
  }

  /** Links to exactly the members the (replaced) member list names. */
  private linkMembers(transport: PeerTransport): void {
    const peers = this.opts.membership.peersOf(this.opts.memberId);
    for (const id of transport.peerIds) if (!peers.has(id)) transport.removePeer(id);
    for (const [id, urls] of peers) if (!transport.peerIds.includes(id)) transport.addPeer(id, urls);
  }

  get isLeader(): boolean {
    return this.driver.isLeader;
  }
  get isLearner(): boolean {
    return this.driver.isLearner;
  }

  get term(): bigint {
    return this.driver.term;
  }
  get commitIndex(): number {
    return Number(this.driver.commitIndex);
  }
  get appliedIndex(): number {
    return this.applier.appliedIndex;
  }
  get leaderId(): bigint {
    return this.driver.leaderId;
  }

  propose(request: Omit<InternalRequest, 'id'>): Promise<ApplyResult> {
    if (this.stopped) return Promise.reject(Errors.stopped());
    const full: InternalRequest = { id: this.nextIdLong(), ...request };
    const data = encodeInternalRequest(full);
    if (data.length > this.opts.maxRequestBytes) return Promise.reject(Errors.requestTooLarge());
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        seq: this.nextSeq++,
        request: full,
        data,
        resolve,
        reject,
        deadline: this.clock + this.timeoutMs,
      };
      this.waiters.set(waiter.seq, waiter);
      this.local.set(data, waiter);
      if (this.driver.hasPeers) {
        waiter.key = uint64FromBits(full.id as Uint64Bits).toString();
        this.byId.set(waiter.key, waiter);
      }
      this.driver.submit(
        data,
        (err) => {
          if (this.forget(waiter)) reject(toEtcdError(err));
        },
        () => (waiter.accepted = true),
      );
    });
  }

  /** Removes a pending waiter; false if it was already settled. */
  private forget(waiter: Waiter): boolean {
    if (waiter.key !== undefined) this.byId.delete(waiter.key);
    this.local.delete(waiter.data);
    return this.waiters.delete(waiter.seq);
  }

  /** Fails the requests that waited longer than the request timeout (oldest first: stops at the first that did not). */
  private sweep(): void {
    this.clock = Date.now();
    for (const w of this.waiters.values()) {
      if (w.deadline > this.clock) break;
      if (!w.accepted) continue;
      this.forget(w);
      w.reject(this.timeoutError(w.deadline - this.timeoutMs));
    }
  }

  /**
   * etcd's choice: a request that started while the previous leader was failing (within two
   * election timeouts before the current one was elected) timed out because of that failure.
   */
  private timeoutError(start: number): unknown {
    const elected = this.driver.leaderSince;
    const leaderFailing = start > elected - 2 * this.opts.electionTimeoutMs && start < elected;
    return leaderFailing ? Errors.timeoutDueToLeaderFail() : Errors.timeout();
  }

  /**
   * Proposes a membership change of `nodeId` (the member it adds or updates travels in the
   * change's context); resolves once applied here, or rejects with etcd's error for a change
   * the members refused when applying it.
   */
  changeMembership(type: ConfChangeType, nodeId: bigint, member?: ClusterMember): Promise<void> {
    if (this.stopped) return Promise.reject(Errors.stopped());
    const id = uint64FromBits(this.nextIdLong());
    const cc: ConfChange = {
      type,
      nodeId,
      context: member ? encodeMemberContext(member) : new Uint8Array(0),
      id,
    };
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.confWaiters.delete(id)) reject(Errors.timeout());
      }, this.timeoutMs);
      const settle = {
        resolve: () => (clearTimeout(timer), resolve()),
        reject: (e: unknown) => (clearTimeout(timer), reject(e)),
      };
      this.confWaiters.set(id, settle);
      try {
        this.driver.proposeConfChange(cc);
      } catch (err) {
        this.confWaiters.delete(id);
        settle.reject(toEtcdError(err));
      }
    });
  }

  /** On the leader: how far a member's log matches the leader's (for promoting learners). */
  matchOf(id: bigint): { match: bigint; leaderMatch: bigint } | undefined {
    return this.driver.matchOf(id);
  }

  /** A committed conf change, in log order: checked and applied to the member list as etcd does. */
  private onConfChange(cc: ConfChange | ConfChangeV2): boolean {
    // Cairn proposes single changes only.
    if ('changes' in cc) return true;
    const refusal = checkConfChange(this.opts.membership, cc);
    const waiter = this.confWaiters.get(cc.id);
    this.confWaiters.delete(cc.id);
    if (refusal) {
      waiter?.reject(refusal);
      return false;
    }
    applyToMembership(this.opts.membership, cc);
    this.confChanged = true;
    const self = this.opts.memberId;
    if (cc.type === ConfChangeType.RemoveNode) {
      // Signalled a while after this batch is written, as etcd does (1 s): meanwhile Raft keeps
      // running, so the others learn that the removal is committed (a survivor that did not would
      // still count our vote) and a removed leader hands its leadership over.
      if (cc.nodeId === self) setTimeout(() => this.removal.resolve(), REMOVED_MEMBER_LINGER_MS).unref();
      else this.transport?.removePeer(cc.nodeId);
    } else if (cc.nodeId !== self) {
      const m = this.opts.membership.get(cc.nodeId);
      // A new member, or new URLs (a promoted learner keeps its link).
      if (m && (cc.type === ConfChangeType.UpdateNode || !this.transport?.peerIds.includes(m.id))) {
        this.transport?.addPeer(m.id, m.peerUrls);
      }
    }
    // Settled after the batch that records it is written (apply runs right after this).
    if (waiter) queueMicrotask(waiter.resolve);
    return true;
  }

  activeSince(id: bigint): number {
    return this.transport?.activeSince(id) ?? 0;
  }

  isVoter(id: bigint): boolean {
    return this.driver.isVoter(id);
  }

  /** etcd's MoveLeader: asks Raft to transfer, then polls every heartbeat until `id` leads. */
  async moveLeader(id: bigint): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    this.driver.transferLeadership(id);
    while (this.driver.leaderId !== id) {
      if (this.stopped) throw Errors.stopped();
      if (Date.now() >= deadline) throw Errors.leaderTransferTimeout();
      await new Promise((ok) => setTimeout(ok, this.opts.heartbeatIntervalMs));
    }
  }

  onLeaderCall(method: string, handler: LeaderCallHandler): void {
    this.leaderCalls.set(method, handler);
    this.transport?.handle(method, (payload, from) => {
      // Only the leader serves these: a member that lost the role says so and the caller retries.
      if (!this.driver.isLeader) return Promise.reject(Errors.notLeader());
      return handler(payload, from);
    });
  }

  onPeerCall(method: string, handler: LeaderCallHandler): void {
    this.transport?.handle(method, handler);
  }

  callPeer(id: bigint, method: string, payload: Uint8Array): Promise<Buffer> {
    if (!this.transport) return Promise.reject(new Error('this member has no peer transport'));
    return this.transport.call(id, method, payload, this.timeoutMs);
  }

  /**
   * The forwarding API: runs `method`'s handler on the current leader, here when this member
   * leads, else through Peer.Call, and answers with what it returned. Failures come back as
   * etcd errors: the handler's own, or no leader / request timed out.
   */
  async callLeader(method: string, payload: Uint8Array): Promise<Buffer> {
    if (this.stopped) throw Errors.stopped();
    const leader = this.driver.leaderId;
    if (leader === 0n) throw Errors.noLeader();
    if (leader === this.opts.memberId) {
      const handler = this.leaderCalls.get(method);
      if (!handler) throw new Error(`no leader call handler for ${method}`);
      return Buffer.from(await handler(Buffer.from(payload), leader));
    }
    if (!this.transport) throw Errors.noLeader();
    try {
      return await this.transport.call(leader, method, payload, this.timeoutMs);
    } catch (err) {
      if (!(err instanceof PeerCallError)) throw err;
      if (err.message.startsWith('etcdserver: ')) throw new EtcdError(err.code, err.message);
      throw err.code === GrpcCode.DEADLINE_EXCEEDED ? Errors.timeout() : Errors.noLeader();
    }
  }

  readIndex(): Promise<void> {
    if (this.stopped) return Promise.reject(Errors.stopped());
    return this.driver.readIndex().then(
      () => undefined,
      (err) => Promise.reject(toEtcdError(err)),
    );
  }

  private nextIdLong(): Uint64Bits {
    const id: Uint64Bits = { low: this.idLow | 0, high: this.idHigh | 0, unsigned: true };
    if (++this.idLow > 0xffffffff) {
      this.idLow = 0;
      this.idHigh = (this.idHigh + 1) >>> 0;
    }
    return id;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweeper);
    await this.driver.stop();
    await this.transport?.stop();
    this.failWaiters();
  }

  private failWaiters(): void {
    for (const w of this.waiters.values()) {
      this.local.delete(w.data);
      w.reject(Errors.stopped());
    }
    this.waiters.clear();
    this.byId.clear();
    for (const w of this.confWaiters.values()) w.reject(Errors.stopped());
    this.confWaiters.clear();
  }

  private apply(entries: Entry[]): void {
    const batch: AppliedEntry[] = new Array(entries.length);
    const owners: (Waiter | undefined)[] = new Array(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      let request: InternalRequest | undefined;
      if (e.type === EntryType.Normal && e.data.length > 0) {
        owners[i] = this.local.get(e.data);
        request = owners[i]?.request ?? decodeInternalRequest(e.data);
        if (!owners[i] && this.byId.size > 0) owners[i] = this.byId.get(String(request.id));
        if (request.member_attributes) {
          this.applyAttributes(request.member_attributes);
          request = undefined;
        }
      }
      batch[i] = { index: Number(e.index), request };
    }
    // Members and Raft's configuration are recorded in the write that records the applied index.
    let membershipOps: EngineOp[] | undefined;
    if (this.membersChanged || this.confChanged) {
      membershipOps = [this.opts.membership.saveOp()];
      if (this.confChanged) membershipOps.push(RaftLogStore.confStateOp(this.confState!));
      this.membersChanged = this.confChanged = false;
    }
    const results = this.applier.applyBatch(batch, membershipOps);
    for (let i = 0; i < entries.length; i++) {
      const waiter = owners[i];
      // No waiter: proposed before a restart (or elsewhere), or already failed.
      if (waiter && this.forget(waiter)) waiter.resolve(results[i]);
    }
  }

  private applyAttributes(req: MemberAttributesRequest): void {
    this.opts.membership.publish(BigInt(req.member_id), req.name ?? '', req.client_urls ?? []);
    this.membersChanged = true;
  }
}

/** Maps consensus failures to the errors etcd gives clients. */
function toEtcdError(err: unknown): unknown {
  if (err instanceof DriverStoppedError) return Errors.stopped();
  if (err instanceof ReadTimeoutError) return Errors.timeout();
  if (err instanceof NoLeaderTimeoutError) return Errors.noLeaderDeadline();
  if (err instanceof ProposalDroppedError) {
    if (err.reason === 'leader changed') return Errors.leaderChanged();
    return err.reason === 'no leader' ? Errors.noLeader() : Errors.proposalDropped();
  }
  return err;
}
