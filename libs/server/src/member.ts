import { accessSync, constants, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Lessor, minLeaseTtl } from '../../lease/src';
import { Engine, MvccError, MvccStore } from '../../storage/src';
import { AuthStore, SimpleTokenProvider, TokenProvider } from '../../auth/src';
import { AlarmStore, formatAlarm } from './alarms';
import { AUTH_PREFIX, Applier, ApplyResult, putCost, txnCost } from './applier';
import { AuthApplier, toRequestAuthInfo } from './auth-applier';
import { checkTxnAuth } from './auth-checks';
import { fromAuthError } from './auth-errors';
import { AutoCompactor, AutoCompactionPolicy } from './auto-compactor';
import * as convert from './convert';
import { CorruptionChecker, HASHKV_CALL } from './corruption-check';
import { Errors, fromMvccError } from './etcd-errors';
import * as pb from './etcd-types';
import { AlarmAction, AlarmType } from './etcd-types';
import {
  Identity,
  MEMBER_LOCAL_KEYS,
  MemberAttributes,
  loadAttributes,
  loadIdentity,
  saveAttributes,
} from './identity';
import { InternalRequest } from './internal-request';
import { bootstrap } from './bootstrap';
import { Caller, MemberAuth, whoIs } from './member-auth';
import { Logger, silentLogger } from './logger';
import { MemberLeases } from './member-leases';
import { ClusterMember, Membership } from './membership';
import { healthyToAdd, healthyToRemove, newMemberId, validPeerUrls } from './membership-changes';
import { ConfChangeType } from '../../raft/src';
import { LeaderCallHandler, Proposer } from './proposer';
import { RaftProposer } from './raft-proposer';
import { snapshotStream } from './snapshot';
import { WatchHub } from '../../watch/src';
import { settleable } from './settleable';
import { StateMachine } from './state-machine';
import { ImageKeys, PeerListener, SnapshotStaging, TlsMaterial } from '../../consensus/src';

/** The etcd API version Cairn speaks; reported by Status so clients can gate features on it. */
export const ETCD_API_VERSION = '3.4.0';

export interface MemberConfig {
  name: string;
  dataDir: string;
  /** Member name -> peer URLs, from --initial-cluster. */
  initialCluster: Record<string, string[]>;
  initialClusterToken: string;
  /** --initial-cluster-state (default new). */
  initialClusterState?: 'new' | 'existing';
  /** --force-new-cluster: restart an existing member as a cluster of itself alone. */
  forceNewCluster?: boolean;
  /** --listen-peer-urls as host and port (TLS for https://): the peer transport listens there (none when absent). */
  peerListeners?: PeerListener[];
  /** Peer TLS (--peer-cert-file, ...): https:// peer listeners and connections to https:// peers. */
  peerTls?: TlsMaterial;
  /** --snapshot-count: applied entries between Raft log truncations. */
  snapshotCount?: number;
  /** --strict-reconfig-check (default true): refuse membership changes that endanger the quorum. */
  strictReconfigCheck?: boolean;
  /** --advertise-client-urls: published at every start, as etcd does. */
  clientUrls?: string[];
  maxRequestBytes: number;
  maxTxnOps: number;
  /** Raft timing, as etcd's --heartbeat-interval and --election-timeout (ms). */
  heartbeatIntervalMs?: number;
  electionTimeoutMs?: number;
  autoCompaction?: AutoCompactionPolicy | null;
  /** --quota-backend-bytes: writes beyond it raise NOSPACE; null or absent = no quota. */
  quotaBytes?: number | null;
  /** etcd's --experimental-watch-progress-notify-interval (ms; 0 = never). */
  watchProgressNotifyIntervalMs?: number;
  /** --auth-token: how logins get tokens; default simple tokens living --auth-token-ttl. */
  tokenProvider?: TokenProvider;
  /** --auth-token-ttl in seconds, for the default simple tokens. */
  authTokenTtlSeconds?: number;
  bcryptCost?: number;
  /** --client-cert-auth on a TLS listener: a verified client certificate's CN names the user. */
  clientCertAuth?: boolean;
  /** --experimental-initial-corrupt-check: compare HashKV with the peers before serving. */
  initialCorruptCheck?: boolean;
  /** --experimental-corrupt-check-time (ms; 0 = never): the leader's periodic HashKV comparison. */
  corruptCheckIntervalMs?: number;
  logger?: Logger;
}

/**
 * One Cairn member: storage, the write path (propose, commit, apply) and the read path, with
 * etcd's response headers. The gRPC layer validates requests and calls in here.
 */
export class Member {
  private autoCompactor: AutoCompactor | undefined;
  private corruptionChecker: CorruptionChecker | undefined;
  private turn: Promise<void> | undefined;
  // Converted once: every response header carries them.
  private readonly clusterIdBits: pb.Uint64Bits;
  private readonly memberIdBits: pb.Uint64Bits;
  private readonly memberIdText: string;
  // RocksDB's size estimate asks the engine for two properties: refreshed at most every 100 ms.
  private engineSize = { bytes: 0, at: -Infinity };
  /** The Auth service, token checks and the auth store. */
  readonly auth: MemberAuth;
  /** The Lease service (see member-leases.ts). */
  readonly leases: MemberLeases;
  private stopping = false;
  private readonly publication = settleable();
  /** Serves watches from this member's own applied state. */
  readonly watchHub: WatchHub;

  private constructor(
    readonly config: MemberConfig,
    readonly identity: Identity,
    readonly attributes: MemberAttributes,
    private readonly engine: Engine,
    readonly store: MvccStore,
    private readonly proposer: Proposer,
    private readonly logger: Logger,
    private readonly alarms: AlarmStore,
    private readonly membership: Membership,
    lessor: Lessor,
    authApplier: AuthApplier,
    /** Hooks for modules that must reload when a snapshot replaces the state (see StateMachine). */
    readonly stateMachine: StateMachine,
  ) {
    this.clusterIdBits = pb.uint64Bits(identity.clusterId);
    this.memberIdBits = pb.uint64Bits(identity.memberId);
    this.memberIdText = identity.memberId.toString();
    this.leases = new MemberLeases(
      lessor,
      proposer,
      (rev) => this.header(rev),
      identity.memberId,
      logger,
      (cost) => (this.overQuota(cost) ? this.refuseNoSpace() : undefined),
      // etcd's request timeout.
      5000 + 2 * (config.electionTimeoutMs ?? 1000),
    );
    this.watchHub = new WatchHub(store, {
      onError: (err) => logger.error('watch catch-up failed', { error: String(err) }),
    });
    this.auth = new MemberAuth(
      authApplier.store,
      authApplier.tokens,
      (req) => this.write(req),
      () => this.proposer.readIndex(),
      config.bcryptCost,
      config.clientCertAuth,
    );
  }

  static async start(config: MemberConfig): Promise<Member> {
    const logger = config.logger ?? silentLogger;
    const dbDir = join(config.dataDir, 'member', 'db');
    prepareDataDir(config.dataDir, dbDir);
    const engine = await Engine.open(dbDir);
    try {
      const imageKeys = new ImageKeys([...MEMBER_LOCAL_KEYS]);
      // A snapshot install cut by a crash is finished before anything reads the state machine.
      const installed = await SnapshotStaging.recover(engine, imageKeys);
      if (installed) logger.warn('finished installing a snapshot', { index: installed.index.toString() });
      const store = await MvccStore.open(engine);
      const stored = loadIdentity(engine);
      const boot = stored ? undefined : await bootstrap(engine, config);
      const identity = stored ?? boot!.identity;
      const attributes = await publishAttributes(engine, config);
      // A data directory from before the member list was recorded holds a cluster of one.
      const membership =
        boot?.membership ??
        Membership.load(engine) ??
        new Membership([{ id: identity.memberId, ...attributes }]);
      const alarms = await AlarmStore.load(engine);
      const heartbeatIntervalMs = config.heartbeatIntervalMs ?? 100;
      const electionTimeoutMs = config.electionTimeoutMs ?? 1000;
      const lessor = await Lessor.load(engine, store, {
        minTtl: minLeaseTtl(heartbeatIntervalMs, electionTimeoutMs),
      });
      const tokens =
        config.tokenProvider ?? new SimpleTokenProvider((config.authTokenTtlSeconds ?? 300) * 1000);
      const authApplier = new AuthApplier(
        await loadAuthStore(engine),
        tokens,
        (id) => lessor.timeToLive(id, true)?.keys ?? [],
      );
      const applier = new Applier(store, alarms, lessor, authApplier);
      const stateMachine = new StateMachine(engine, store, lessor, alarms, membership, applier);
      const proposer = await RaftProposer.open(engine, applier, {
        memberId: identity.memberId,
        clusterId: identity.clusterId,
        maxRequestBytes: config.maxRequestBytes,
        heartbeatIntervalMs,
        electionTimeoutMs,
        // Only the leader expires leases; a new one first gives each an election timeout more, as etcd.
        onLeadershipChange: (leading) => (leading ? lessor.promote(electionTimeoutMs) : lessor.demote()),
        snapshotCount: config.snapshotCount,
        membership,
        bootstrapVoters: membership.list().flatMap((m) => (m.isLearner ? [] : [m.id])),
        bootstrapLearners: membership.list().flatMap((m) => (m.isLearner ? [m.id] : [])),
        peerListeners: config.peerListeners,
        peerTls: config.peerTls,
        snapshots: { staging: new SnapshotStaging(engine, imageKeys), stateMachine },
        forceNewCluster: config.forceNewCluster,
        logger,
      });
      const member = new Member(
        config,
        identity,
        attributes,
        engine,
        store,
        proposer,
        logger,
        alarms,
        membership,
        lessor,
        authApplier,
        stateMachine,
      );
      proposer.onLeaderCall(PROMOTE_CALL, (payload) => member.promoteOnLeader(payload));
      member.publish();
      applier.publish = (events, revision) => member.watchHub.publish(events, revision);
      // A snapshot replaced the state: auth reloads its users and roles, watchers catch up.
      stateMachine.onReopen(async () => authApplier.store.replaceWith(await authRecords(engine)));
      stateMachine.onReopen(() => member.watchHub.resync());
      if (config.autoCompaction) {
        member.autoCompactor = new AutoCompactor(
          config.autoCompaction,
          store,
          (rev) => member.compact({ revision: rev }),
          logger,
        );
      }
      await member.checkCorruption(config);
      return member;
    } catch (err) {
      await engine.close();
      throw err;
    }
  }

  /**
   * Serves this member's HashKV to its peers, then runs the corruption checks the flags ask for;
   * a failed initial check stops the member (it must not serve).
   */
  private async checkCorruption(config: MemberConfig): Promise<void> {
    const checker = new CorruptionChecker({
      memberId: this.identity.memberId,
      hashKV: async (rev) => {
        await this.stateMachine.replacing;
        return this.store.hashKV(rev);
      },
      peers: () => this.membership.ids().filter((id) => id !== this.identity.memberId),
      callPeer: (id, method, payload) => this.proposer.callPeer(id, method, payload),
      isLeader: () => this.proposer.leaderId === this.identity.memberId,
      readIndex: () => this.proposer.readIndex(),
      raiseCorrupt: async (id) => {
        await this.alarm({ action: AlarmAction.ACTIVATE, memberID: id.toString(), alarm: AlarmType.CORRUPT });
      },
      logger: this.logger,
    });
    this.proposer.onPeerCall(HASHKV_CALL, (payload) => checker.serve(payload));
    if (config.initialCorruptCheck) {
      try {
        await checker.checkInitial();
      } catch (err) {
        await this.stop();
        throw err;
      }
    }
    if (config.corruptCheckIntervalMs) checker.start(config.corruptCheckIntervalMs);
    this.corruptionChecker = checker;
  }

  header(revision: number = this.store.revision): pb.ResponseHeader {
    return {
      cluster_id: this.clusterIdBits,
      member_id: this.memberIdBits,
      revision,
      raft_term: Number(this.proposer.term),
    };
  }

  async range(req: pb.RangeRequest, caller?: Caller): Promise<pb.RangeResponse> {
    if (!req.serializable && this.proposer.isLearner) throw Errors.notSupportedForLearner();
    await (req.serializable ? this.nextTurn() : this.proposer.readIndex());
    // A snapshot being installed: the store answers again once it is whole.
    if (this.stateMachine.replacing) await this.stateMachine.replacing;
    // Resolved after the read index, as etcd does: a permission revoked before the read began
    // is seen here even when this member applied the revoke only while waiting.
    const auth = whoIs(caller);
    if (this.auth.store.enabled)
      this.checkAuth(() => this.auth.store.checkRange(auth, req.key, req.range_end));
    try {
      const { revision, result } = this.store.range(convert.rangeRequest(req));
      const res = convert.rangeResponse(result, revision);
      res.header = this.header(revision);
      return res;
    } catch (err) {
      throw fromMvccError(err);
    }
  }

  /**
   * Resolves at the end of this event-loop turn, for everyone who asked during it. Serving
   * serializable reads together lets their responses leave in fewer socket writes, as
   * linearizable reads (answered per read-index round) already do.
   */
  private nextTurn(): Promise<void> {
    this.turn ??= new Promise((resolve) =>
      setImmediate(() => {
        this.turn = undefined;
        resolve();
      }),
    );
    return this.turn;
  }

  /** `caller`: who sent it (auth on); its permissions are checked when the write is applied. */
  async put(req: pb.PutRequest, caller?: Caller): Promise<pb.PutResponse> {
    if (this.overQuota(putCost(req))) await this.refuseNoSpace();
    return this.writeAs({ put: req }, caller);
  }

  async deleteRange(req: pb.DeleteRangeRequest, caller?: Caller): Promise<pb.DeleteRangeResponse> {
    return this.writeAs({ delete_range: convert.asLogged(req) }, caller);
  }

  async txn(req: pb.TxnRequest, caller?: Caller): Promise<pb.TxnResponse> {
    // etcd checks every txn, read-only ones too (their cost is 0).
    if (this.overQuota(txnCost(req))) await this.refuseNoSpace();
    if (this.proposer.isLearner && !isSerializableTxn(req)) throw Errors.notSupportedForLearner();
    if (isReadOnlyTxn(req)) {
      // Read-only txns are served like reads: after a read index, from local state.
      if (!isSerializableTxn(req)) await this.proposer.readIndex();
      if (this.stateMachine.replacing) await this.stateMachine.replacing;
      const auth = whoIs(caller);
      if (this.auth.store.enabled) this.checkAuth(() => checkTxnAuth(this.auth.store, auth, req));
      try {
        const { revision, result } = this.store.txn(convert.txnRequest(req));
        const res = convert.txnResponse(result, revision);
        res.header = this.header(revision);
        return res;
      } catch (err) {
        throw fromMvccError(err);
      }
    }
    return this.writeAs({ txn: convert.txnAsLogged(req) }, caller);
  }

  /**
   * Proposes a write with who sent it, resolved now as etcd does. A member that has not yet
   * applied a permission change resolves an old auth revision, and the write is then refused as
   * etcd refuses it ("revision of auth store is old"): clients log in again and retry.
   */
  private writeAs<T>(request: Omit<InternalRequest, 'id' | 'auth_info'>, caller?: Caller): Promise<T> {
    const auth = whoIs(caller);
    return this.write(auth ? { ...request, auth_info: toRequestAuthInfo(auth) } : request);
  }

  /** Runs an auth store check, answering its refusal as etcd does. */
  private checkAuth(check: () => void): void {
    try {
      check();
    } catch (err) {
      throw fromAuthError(err);
    }
  }

  async compact(req: pb.CompactionRequest): Promise<pb.CompactionResponse> {
    if (this.proposer.isLearner) throw Errors.notSupportedForLearner();
    const result = await this.proposer.propose({ compaction: req });
    if (result.error) throw result.error;
    if (req.physical && result.done) await result.done;
    return this.withHeader(result);
  }

  /**
   * Cluster.MemberList (etcd's header: no revision). This member as it started; the others as
   * they last published themselves through the log.
   */
  memberList(): pb.MemberListResponse {
    return { header: this.clusterHeader(), members: this.memberInfos() };
  }

  /**
   * Cluster.MemberAdd: a voter or learner with these peer URLs and etcd's runtime id; refused,
   * as etcd's strict reconfiguration check does, if the started voters would not be a quorum
   * or this member has not been connected to every voter for a while.
   */
  async memberAdd(req: pb.MemberAddRequest): Promise<pb.MemberAddResponse> {
    const peerUrls = req.peerURLs ?? [];
    if (!validPeerUrls(peerUrls)) throw Errors.memberBadUrls();
    const isLearner = !!req.isLearner;
    if (this.strict) {
      if (!isLearner && !this.membership.startedQuorumAfterAddingVoter())
        throw Errors.memberNotEnoughStarted();
      if (!healthyToAdd(this.membership, this.identity.memberId, this.activeSince, Date.now()))
        throw Errors.unhealthy();
    }
    const member: ClusterMember = {
      id: newMemberId(peerUrls, Math.floor(Date.now() / 1000)),
      name: '',
      peerUrls,
      clientUrls: [],
      isLearner,
    };
    const type = isLearner ? ConfChangeType.AddLearnerNode : ConfChangeType.AddNode;
    await this.proposer.changeMembership(type, member.id, member);
    return { header: this.clusterHeader(), member: toPbMember(member), members: this.memberInfos() };
  }

  /**
   * Cluster.MemberRemove, with etcd's strict checks: the started voters left must be a quorum,
   * and so must the voters left that this member has been connected to.
   */
  async memberRemove(req: pb.MemberRemoveRequest): Promise<pb.MembersResponse> {
    const id = BigInt(req.ID ?? 0);
    if (this.strict) {
      if (!this.membership.startedQuorumAfterRemoving(id)) throw Errors.memberNotEnoughStarted();
      if (!healthyToRemove(this.membership, this.identity.memberId, id, this.activeSince, Date.now()))
        throw Errors.unhealthy();
    }
    await this.proposer.changeMembership(ConfChangeType.RemoveNode, id);
    return { header: this.clusterHeader(), members: this.memberInfos() };
  }

  /**
   * Cluster.MemberUpdate: new peer URLs for a member. etcd 3.4 does not check them and its
   * members then crash applying URLs that do not parse; Cairn refuses them as MemberAdd does.
   */
  async memberUpdate(req: pb.MemberUpdateRequest): Promise<pb.MembersResponse> {
    const peerUrls = req.peerURLs ?? [];
    if (!validPeerUrls(peerUrls)) throw Errors.memberBadUrls();
    const id = BigInt(req.ID ?? 0);
    const member: ClusterMember = { id, name: '', peerUrls, clientUrls: [] };
    await this.proposer.changeMembership(ConfChangeType.UpdateNode, id, member);
    return { header: this.clusterHeader(), members: this.memberInfos() };
  }

  /** Cluster.MemberPromote: decided on the leader, which knows how far the learner's log is. */
  async memberPromote(req: pb.MemberPromoteRequest): Promise<pb.MembersResponse> {
    // The answer lists the members as the leader knows them once it applied the promotion.
    const members = await this.proposer.callLeader(PROMOTE_CALL, Buffer.from(String(BigInt(req.ID ?? 0))));
    return { header: this.clusterHeader(), members: Membership.fromJson(members).list().map(toPbMember) };
  }

  /** On the leader: etcd's learner readiness (its log within 90% of the leader's) and promotion. */
  private async promoteOnLeader(payload: Buffer): Promise<Uint8Array> {
    const id = BigInt(payload.toString());
    const member = this.membership.get(id);
    if (!member) throw Errors.memberNotFound();
    const progress = this.proposer.matchOf(id);
    if (progress && progress.match * 10n < progress.leaderMatch * 9n) throw Errors.learnerNotReady();
    if (!member.isLearner) throw Errors.memberNotLearner();
    // etcd 3.4 checks only started members here, not connections (as it does for add and remove).
    if (this.strict && !this.membership.startedQuorumAfterPromoting()) throw Errors.memberNotEnoughStarted();
    await this.proposer.changeMembership(ConfChangeType.AddNode, id, { ...member, isLearner: false });
    return this.membership.toJson();
  }

  private get strict(): boolean {
    return this.config.strictReconfigCheck ?? true;
  }

  private readonly activeSince = (id: bigint): number => this.proposer.activeSince(id);

  private clusterHeader(): pb.ClusterHeader {
    return {
      cluster_id: this.clusterIdBits,
      member_id: this.memberIdBits,
      raft_term: Number(this.proposer.term),
    };
  }

  private memberInfos(): pb.Member[] {
    return this.membership
      .list()
      .map((m) => toPbMember(m.id === this.identity.memberId ? { ...m, ...this.attributes } : m));
  }

  /**
   * Publishes this member's name and client URLs through the log at every start, as etcd does,
   * retrying until it is committed or the member stops. A cluster of one reports its own
   * attributes directly and logs nothing.
   */
  private publish(): void {
    if (this.membership.ids().length < 2) return this.publication.resolve();
    const { name, clientUrls } = this.attributes;
    const attempt = () => {
      if (this.stopping) return;
      this.proposer
        .propose({ member_attributes: { member_id: this.memberIdText, name, client_urls: clientUrls } })
        .then(() => this.publication.resolve())
        .catch((err) => {
          if (this.stopping) return;
          this.logger.warn('failed to publish member attributes; retrying', { error: String(err) });
          setTimeout(attempt, 1000).unref();
        });
    };
    attempt();
  }

  /**
   * Resolves once this start's name and client URLs are applied (at once for a cluster of one):
   * etcd serves clients only from then on.
   */
  get published(): Promise<void> {
    return this.publication.promise;
  }

  /**
   * Maintenance.MoveLeader as etcd 3.4 answers it: only the leader takes it; the target must be
   * a voting member (else a bad transferee); the answer (empty, no header) comes once the target
   * leads, at once when it is the leader itself.
   */
  async moveLeader(req: pb.MoveLeaderRequest): Promise<pb.MoveLeaderResponse> {
    if (this.proposer.leaderId !== this.identity.memberId) throw Errors.notLeader();
    const target = BigInt(req.targetID ?? 0);
    if (!this.proposer.isVoter(target)) throw Errors.badLeaderTransferee();
    if (target !== this.identity.memberId) await this.proposer.moveLeader(target);
    return {};
  }

  /**
   * The forwarding API for requests only the leader may serve (e.g. lease keep-alives): the
   * handler registered here runs on whichever member leads when `callLeader` is called on any
   * member. Register on every member at start.
   */
  onLeaderCall(method: string, handler: LeaderCallHandler): void {
    this.proposer.onLeaderCall(method, handler);
  }

  /** Runs `method` on the leader (see onLeaderCall); rejects with etcd errors. */
  callLeader(method: string, payload: Uint8Array): Promise<Buffer> {
    return this.proposer.callLeader(method, payload);
  }

  /** Maintenance.Snapshot: the whole keyspace at one point in time, chunked (see snapshot.ts). */
  async *snapshot(): AsyncGenerator<pb.SnapshotResponse> {
    // Not of a state machine half replaced by a Raft snapshot being installed.
    await this.stateMachine.replacing;
    yield* snapshotStream(this.engine);
  }

  /**
   * etcd's quota check, before a put or txn is proposed (synchronous, so the write path awaits
   * nothing more while under quota): when the store plus the request would reach the quota,
   * raise NOSPACE through the log and refuse the request. The store's size is
   * the bytes of its revision records (Status' dbSizeInUse), not RocksDB's files: those only
   * shrink when RocksDB compacts on its own (the binding offers no way to ask it to, see
   * `defragment`) and also hold the Raft log, so deleting and compacting could never bring the
   * member back under its quota.
   */
  private overQuota(cost: number): boolean {
    const quota = this.config.quotaBytes;
    return quota != null && quota > 0 && this.store.sizeInUse + cost >= quota;
  }

  /** Raises NOSPACE for this member through the log, then refuses the request. */
  private async refuseNoSpace(): Promise<never> {
    try {
      await this.alarm({
        action: AlarmAction.ACTIVATE,
        memberID: this.memberIdText,
        alarm: AlarmType.NOSPACE,
      });
    } catch (err) {
      this.logger.warn('failed to raise the NOSPACE alarm', { error: String(err) });
    }
    throw Errors.noSpace();
  }

  /** Maintenance.Alarm: every action goes through the log, as in etcd. */
  async alarm(req: pb.AlarmRequest): Promise<pb.AlarmResponse> {
    const result = await this.proposer.propose({ alarm: req });
    if (result.error) throw result.error;
    return this.withHeader(result);
  }

  /** Maintenance.HashKV: see MvccStore.hashKV; the header carries the current revision. */
  async hashKV(req: pb.HashKVRequest): Promise<pb.HashKVResponse> {
    await this.stateMachine.replacing;
    try {
      const { hash, revision, compactRevision } = await this.store.hashKV(Number(req.revision ?? 0));
      return { header: this.header(revision), hash, compact_revision: String(compactRevision) };
    } catch (err) {
      throw fromMvccError(err);
    }
  }

  /** Maintenance.Hash: a hash of the whole MVCC store. */
  async hash(): Promise<pb.HashResponse> {
    await this.stateMachine.replacing;
    const { hash, revision } = await this.store.hash();
    return { header: this.header(revision), hash };
  }

  /**
   * Maintenance.Defragment. etcd rewrites its bbolt file to return freed pages; here the space
   * compaction frees is returned by RocksDB's own background compactions, and the binding
   * (@nxtedition/rocksdb) exposes no manual compactRange or flush to force one. So this waits
   * for any physical MVCC compaction still running (whose deletes are what frees space) and
   * answers success.
   */
  async defragment(): Promise<pb.DefragmentResponse> {
    await this.store.idle();
    this.engineSize.at = -Infinity;
    return { header: this.header() };
  }

  /** The engine's size estimate, cached for at most 100 ms. */
  private approximateSize(): number {
    const now = Date.now();
    if (now - this.engineSize.at >= 100) this.engineSize = { bytes: this.engine.approximateSize(), at: now };
    return this.engineSize.bytes;
  }

  status(): pb.StatusResponse {
    const inUse = this.store.sizeInUse;
    const size = Math.max(this.approximateSize(), inUse);
    return {
      header: this.header(),
      version: ETCD_API_VERSION,
      dbSize: String(size),
      leader: this.proposer.leaderId.toString(),
      raftIndex: String(this.proposer.commitIndex),
      raftTerm: this.proposer.term.toString(),
      raftAppliedIndex: String(this.proposer.appliedIndex),
      errors: this.alarms.list().map(formatAlarm),
      dbSizeInUse: String(inUse),
      isLearner: this.proposer.isLearner,
    };
  }

  /**
   * Resolves once this member learns it was removed from the cluster (it applied its removal,
   * or a peer refused it): the daemon then stops it, as etcd's members stop.
   */
  get removed(): Promise<void> {
    return this.proposer.removed;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.autoCompactor?.stop();
    this.corruptionChecker?.stop();
    this.leases.stop();
    this.watchHub.close();
    this.auth.tokens.stop();
    await this.proposer.stop();
    await this.store.idle();
    await this.engine.close();
  }

  private async write<T>(request: Omit<InternalRequest, 'id'>): Promise<T> {
    if (this.proposer.isLearner) throw Errors.notSupportedForLearner();
    const result = await this.proposer.propose(request);
    if (result.error) throw result.error instanceof MvccError ? fromMvccError(result.error) : result.error;
    return this.withHeader(result);
  }

  /** Completes an applied response's header with this member's cluster id, member id and term. */
  private withHeader<T>(result: ApplyResult): T {
    const res = result.response as { header?: Partial<pb.ResponseHeader> };
    res.header = this.header(Number(res.header?.revision ?? this.store.revision));
    return res as T;
  }
}

/** The forwarded call that promotes a learner on the leader. */
const PROMOTE_CALL = 'cairn.member-promote';

function toPbMember(m: ClusterMember): pb.Member {
  return {
    ID: m.id.toString(),
    name: m.name,
    peerURLs: m.peerUrls,
    clientURLs: m.clientUrls,
    isLearner: !!m.isLearner,
  };
}

/** The auth store as persisted under its prefix. */
async function loadAuthStore(engine: Engine): Promise<AuthStore> {
  return AuthStore.fromRecords(await authRecords(engine));
}

async function authRecords(engine: Engine): Promise<[string, Buffer][]> {
  const records: [string, Buffer][] = [];
  const end = Buffer.concat([AUTH_PREFIX.subarray(0, -1), Buffer.from('0')]); // '0' follows '/'
  for await (const chunk of engine.scan(AUTH_PREFIX, end)) {
    for (const [key, value] of chunk)
      records.push([key.subarray(AUTH_PREFIX.length).toString('utf8'), value]);
  }
  return records;
}

function prepareDataDir(dataDir: string, dbDir: string): void {
  try {
    mkdirSync(dbDir, { recursive: true, mode: 0o700 });
    accessSync(dbDir, constants.W_OK | constants.R_OK);
  } catch (err) {
    throw new Error(`cannot access data directory ${dataDir}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * The attributes MemberList reports: peer URLs as recorded when the member bootstrapped (or, for
 * a data directory from before they were recorded, from --initial-cluster), name and client URLs
 * from this start's flags; recorded again whenever they change.
 */
async function publishAttributes(engine: Engine, config: MemberConfig): Promise<MemberAttributes> {
  const stored = loadAttributes(engine);
  const attributes: MemberAttributes = {
    name: config.name,
    peerUrls: stored?.peerUrls ?? config.initialCluster[config.name] ?? [],
    clientUrls: config.clientUrls ?? [],
  };
  if (JSON.stringify(stored) !== JSON.stringify(attributes)) await saveAttributes(engine, attributes);
  return attributes;
}

function isReadOnlyTxn(req: pb.TxnRequest): boolean {
  return [...(req.success ?? []), ...(req.failure ?? [])].every((op) => !!op.request_range);
}

function isSerializableTxn(req: pb.TxnRequest): boolean {
  return [...(req.success ?? []), ...(req.failure ?? [])].every((op) => !!op.request_range?.serializable);
}
