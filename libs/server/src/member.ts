import { accessSync, constants, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Lessor, minLeaseTtl } from '../../lease/src';
import { Engine, MvccError, MvccStore } from '../../storage/src';
import { AuthInfo, AuthStore, SimpleTokenProvider, TokenProvider } from '../../auth/src';
import { AlarmStore, formatAlarm } from './alarms';
import { AUTH_PREFIX, Applier, ApplyResult, putCost, txnCost } from './applier';
import { AuthApplier, toRequestAuthInfo } from './auth-applier';
import { checkTxnAuth } from './auth-checks';
import { fromAuthError } from './auth-errors';
import { AutoCompactor, AutoCompactionPolicy } from './auto-compactor';
import * as convert from './convert';
import { Errors, fromMvccError } from './etcd-errors';
import * as pb from './etcd-types';
import { AlarmAction, AlarmType } from './etcd-types';
import {
  Identity,
  MemberAttributes,
  computeClusterId,
  computeMemberId,
  loadAttributes,
  loadIdentity,
  saveAttributes,
  saveIdentity,
} from './identity';
import { InternalRequest } from './internal-request';
import { MemberAuth } from './member-auth';
import { Logger, silentLogger } from './logger';
import { MemberLeases } from './member-leases';
import { Proposer } from './proposer';
import { RaftProposer } from './raft-proposer';
import { snapshotStream } from './snapshot';

/** The etcd API version Cairn speaks; reported by Status so clients can gate features on it. */
export const ETCD_API_VERSION = '3.4.0';

export interface MemberConfig {
  name: string;
  dataDir: string;
  /** Member name -> peer URLs, from --initial-cluster. */
  initialCluster: Record<string, string[]>;
  initialClusterToken: string;
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
  /** --auth-token: how logins get tokens; default simple tokens living --auth-token-ttl. */
  tokenProvider?: TokenProvider;
  /** --auth-token-ttl in seconds, for the default simple tokens. */
  authTokenTtlSeconds?: number;
  bcryptCost?: number;
  /** --client-cert-auth on a TLS listener: a verified client certificate's CN names the user. */
  clientCertAuth?: boolean;
  logger?: Logger;
}

/**
 * One Cairn member: storage, the write path (propose, commit, apply) and the read path, with
 * etcd's response headers. The gRPC layer validates requests and calls in here.
 */
export class Member {
  private autoCompactor: AutoCompactor | undefined;
  private turn: Promise<void> | undefined;
  // Rendered once: every response header carries them.
  private readonly clusterIdText: string;
  private readonly memberIdText: string;
  // RocksDB's size estimate asks the engine for two properties: refreshed at most every 100 ms.
  private engineSize = { bytes: 0, at: -Infinity };
  /** The Auth service, token checks and the auth store. */
  readonly auth: MemberAuth;
  /** The Lease service (see member-leases.ts). */
  readonly leases: MemberLeases;

  private constructor(
    readonly config: MemberConfig,
    readonly identity: Identity,
    readonly attributes: MemberAttributes,
    private readonly engine: Engine,
    readonly store: MvccStore,
    private readonly proposer: Proposer,
    private readonly logger: Logger,
    private readonly alarms: AlarmStore,
    lessor: Lessor,
    authApplier: AuthApplier,
  ) {
    this.clusterIdText = identity.clusterId.toString();
    this.memberIdText = identity.memberId.toString();
    this.leases = new MemberLeases(
      lessor,
      proposer,
      (rev) => this.header(rev),
      identity.memberId,
      logger,
      (cost) => (this.overQuota(cost) ? this.refuseNoSpace() : undefined),
    );
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
      const store = await MvccStore.open(engine);
      const identity = loadIdentity(engine) ?? (await bootstrapIdentity(engine, config));
      const attributes = await publishAttributes(engine, config);
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
      const proposer = await RaftProposer.open(engine, applier, {
        memberId: identity.memberId,
        maxRequestBytes: config.maxRequestBytes,
        heartbeatIntervalMs,
        electionTimeoutMs,
        // Only the leader expires leases; a new one first gives each an election timeout more, as etcd.
        onLeadershipChange: (leading) => (leading ? lessor.promote(electionTimeoutMs) : lessor.demote()),
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
        lessor,
        authApplier,
      );
      if (config.autoCompaction) {
        member.autoCompactor = new AutoCompactor(
          config.autoCompaction,
          store,
          (rev) => member.compact({ revision: rev }),
          logger,
        );
      }
      return member;
    } catch (err) {
      await engine.close();
      throw err;
    }
  }

  header(revision: number = this.store.revision): pb.ResponseHeader {
    return {
      cluster_id: this.clusterIdText,
      member_id: this.memberIdText,
      revision: String(revision),
      raft_term: this.proposer.term.toString(),
    };
  }

  async range(req: pb.RangeRequest, auth?: AuthInfo): Promise<pb.RangeResponse> {
    await (req.serializable ? this.nextTurn() : this.proposer.readIndex());
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

  /** `auth`: who sent it (auth on); its permissions are checked when the write is applied. */
  async put(req: pb.PutRequest, auth?: AuthInfo): Promise<pb.PutResponse> {
    if (this.overQuota(putCost(req))) await this.refuseNoSpace();
    return this.write(auth ? { put: req, auth_info: toRequestAuthInfo(auth) } : { put: req });
  }

  async deleteRange(req: pb.DeleteRangeRequest, auth?: AuthInfo): Promise<pb.DeleteRangeResponse> {
    const delete_range = convert.asLogged(req);
    return this.write(auth ? { delete_range, auth_info: toRequestAuthInfo(auth) } : { delete_range });
  }

  async txn(req: pb.TxnRequest, auth?: AuthInfo): Promise<pb.TxnResponse> {
    // etcd checks every txn, read-only ones too (their cost is 0).
    if (this.overQuota(txnCost(req))) await this.refuseNoSpace();
    if (isReadOnlyTxn(req)) {
      // Read-only txns are served like reads: after a read index, from local state.
      if (!isSerializableTxn(req)) await this.proposer.readIndex();
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
    const txn = convert.txnAsLogged(req);
    return this.write(auth ? { txn, auth_info: toRequestAuthInfo(auth) } : { txn });
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
    const result = await this.proposer.propose({ compaction: req });
    if (result.error) throw result.error;
    if (req.physical && result.done) await result.done;
    return this.withHeader(result);
  }

  /** Cluster.MemberList: a cluster of one, this member (etcd's header: no revision). */
  memberList(): pb.MemberListResponse {
    const { name, peerUrls, clientUrls } = this.attributes;
    return {
      header: {
        cluster_id: this.clusterIdText,
        member_id: this.memberIdText,
        raft_term: this.proposer.term.toString(),
      },
      members: [
        { ID: this.memberIdText, name, peerURLs: peerUrls, clientURLs: clientUrls, isLearner: false },
      ],
    };
  }

  /**
   * Maintenance.MoveLeader as etcd 3.4 answers it: only the leader takes it; moving to the
   * leader itself succeeds at once (an empty response, no header); any id that is not a voting
   * member is a bad transferee. In a cluster of one only this member is a member.
   */
  moveLeader(req: pb.MoveLeaderRequest): pb.MoveLeaderResponse {
    if (this.proposer.leaderId !== this.identity.memberId) throw Errors.notLeader();
    if (BigInt(req.targetID ?? 0) !== this.identity.memberId) throw Errors.badLeaderTransferee();
    return {};
  }

  /** Maintenance.Snapshot: the whole keyspace at one point in time, chunked (see snapshot.ts). */
  snapshot(): AsyncGenerator<pb.SnapshotResponse> {
    return snapshotStream(this.engine);
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
    try {
      const { hash, revision, compactRevision } = await this.store.hashKV(Number(req.revision ?? 0));
      return { header: this.header(revision), hash, compact_revision: String(compactRevision) };
    } catch (err) {
      throw fromMvccError(err);
    }
  }

  /** Maintenance.Hash: a hash of the whole MVCC store. */
  async hash(): Promise<pb.HashResponse> {
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
      isLearner: false,
    };
  }

  async stop(): Promise<void> {
    this.autoCompactor?.stop();
    this.leases.stop();
    this.auth.tokens.stop();
    await this.proposer.stop();
    await this.store.idle();
    await this.engine.close();
  }

  private async write<T>(request: Omit<InternalRequest, 'id'>): Promise<T> {
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

/** The auth store as persisted under its prefix. */
async function loadAuthStore(engine: Engine): Promise<AuthStore> {
  const records: [string, Buffer][] = [];
  const end = Buffer.concat([AUTH_PREFIX.subarray(0, -1), Buffer.from('0')]); // '0' follows '/'
  for await (const chunk of engine.scan(AUTH_PREFIX, end)) {
    for (const [key, value] of chunk)
      records.push([key.subarray(AUTH_PREFIX.length).toString('utf8'), value]);
  }
  return AuthStore.fromRecords(records);
}

function prepareDataDir(dataDir: string, dbDir: string): void {
  try {
    mkdirSync(dbDir, { recursive: true, mode: 0o700 });
    accessSync(dbDir, constants.W_OK | constants.R_OK);
  } catch (err) {
    throw new Error(`cannot access data directory ${dataDir}: ${(err as Error).message}`, { cause: err });
  }
}

async function bootstrapIdentity(engine: Engine, config: MemberConfig): Promise<Identity> {
  const ownUrls = config.initialCluster[config.name];
  if (!ownUrls)
    throw new Error(`couldn't find local name "${config.name}" in the initial cluster configuration`);
  const memberIds = Object.values(config.initialCluster).map((urls) =>
    computeMemberId(urls, config.initialClusterToken),
  );
  const identity = {
    memberId: computeMemberId(ownUrls, config.initialClusterToken),
    clusterId: computeClusterId(memberIds),
  };
  // One synced write: a member never has an identity without its attributes.
  await saveIdentity(engine, identity, {
    name: config.name,
    peerUrls: ownUrls,
    clientUrls: config.clientUrls ?? [],
  });
  return identity;
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
