import { ExpiryLoop, LeaseError, LeaseIdGenerator, Lessor, MAX_LEASE_TTL } from '../../lease/src';
import { ApplyResult } from './applier';
import { EtcdError, Errors } from './etcd-errors';
import * as pb from './etcd-types';
import { fromLeaseError } from './lease-apply';
import { Logger } from './logger';
import { RequestAuthInfo } from './auth-types';
import { Proposer } from './proposer';
import { TurnBatcher } from './turn-batcher';

/** Bytes etcd charges a LeaseGrant against the quota (its leaseOverhead). */
const LEASE_COST = 64;

/** Leader calls (Peer.Call) a follower makes for keep-alives (a batch of ids) and TimeToLive. */
const RENEW_CALL = 'cairn.lease-renew-many';
const TIME_TO_LIVE_CALL = 'cairn.lease-ttl';
/** Between two attempts to reach a leader that is changing. */
const FORWARD_RETRY_MS = 50;

/** What TimeToLive tells about a lease, as it travels between members. */
interface LeaseLife {
  remaining: number;
  granted: number;
  /** Attached keys, base64. */
  keys: string[];
}

/**
 * The Lease service of one member. Grants and revokes go through the log; keep-alives and
 * TimeToLive are answered by the leader's lessor, which alone tracks expiry; the leader also
 * proposes the revokes of leases that expire.
 *
 * A follower forwards keep-alives and TimeToLive to the leader (Peer.Call) and, as etcd's
 * followers do, tries again while leadership moves, until the request timeout.
 */
export class MemberLeases {
  private readonly ids: LeaseIdGenerator;
  private readonly expiry: ExpiryLoop;
  private readonly forwardedRenewals = new TurnBatcher<bigint, number>((ids) => this.renewAtLeader(ids));

  constructor(
    readonly lessor: Lessor,
    private readonly proposer: Proposer,
    private readonly header: (revision?: number) => pb.ResponseHeader,
    memberId: bigint,
    private readonly logger: Logger,
    /** The member's quota check: refuses (raising NOSPACE) a request of this many bytes over quota. */
    private readonly checkQuota: (cost: number) => Promise<void> | undefined,
    /** How long a forwarded call keeps trying to reach a leader (etcd's request timeout). */
    private readonly forwardTimeoutMs: number,
  ) {
    this.ids = new LeaseIdGenerator(memberId);
    this.expiry = new ExpiryLoop(lessor, (expired) => this.revokeExpired(expired));
    proposer.onLeaderCall(RENEW_CALL, async (payload) => {
      const ids = payload.toString().split(',').map(BigInt);
      return Buffer.from((await this.renewAllHere(ids)).join(','));
    });
    proposer.onLeaderCall(TIME_TO_LIVE_CALL, async (payload) => {
      const { id, keys } = JSON.parse(payload.toString()) as { id: string; keys: boolean };
      return Buffer.from(JSON.stringify(await this.lifeHere(BigInt(id), keys)));
    });
  }

  async grant(req: pb.LeaseGrantRequest): Promise<pb.LeaseGrantResponse> {
    // etcd charges a grant its lease overhead against the quota.
    await this.checkQuota(LEASE_COST);
    if (Number(req.TTL ?? 0) > MAX_LEASE_TTL) throw Errors.leaseTtlTooLarge();
    const id = BigInt(req.ID ?? 0);
    // The id is chosen here, before proposing, so that every member grants the same lease.
    const chosen = id !== 0n ? id : this.ids.next();
    return this.propose({ lease_grant: { ID: chosen.toString(), TTL: String(req.TTL ?? 0) } });
  }

  /** `auth`: who revokes, with auth on; the apply step checks it may delete the lease's keys. */
  revoke(req: pb.LeaseRevokeRequest, auth?: RequestAuthInfo): Promise<pb.LeaseRevokeResponse> {
    const lease_revoke = { ID: BigInt(req.ID ?? 0).toString() };
    return this.propose(auth ? { lease_revoke, auth_info: auth } : { lease_revoke });
  }

  /** One keep-alive: renews the lease and answers its TTL; an unknown or expired lease gets TTL 0, as in etcd. */
  async keepAlive(req: pb.LeaseKeepAliveRequest): Promise<pb.LeaseKeepAliveResponse> {
    const id = BigInt(req.ID ?? 0);
    const ttl = await this.renew(id);
    return { header: this.header(), ID: pb.int64Bits(id), TTL: ttl };
  }

  /** Renews a lease at the leader: its TTL, or 0 if it does not exist (or just expired). */
  async renew(id: bigint): Promise<number> {
    if (this.lessor.isPrimary) return (await this.renewAllHere([id]))[0];
    return this.forwardedRenewals.add(id);
  }

  /** The leader's side of renewals: one catch-up for the whole batch, then each lease's TTL. */
  private async renewAllHere(ids: bigint[]): Promise<number[]> {
    if (!this.lessor.isPrimary) throw Errors.notLeader();
    await this.caughtUp();
    return ids.map((id) => {
      try {
        return this.lessor.renew(id);
      } catch (err) {
        if (err instanceof LeaseError && err.code === 'not-found') return 0;
        throw fromLeaseError(err);
      }
    });
  }

  /** A follower's renewals of one event-loop turn, sent to the leader as one call. */
  private async renewAtLeader(ids: bigint[]): Promise<number[]> {
    const answer = await this.forward(RENEW_CALL, ids.join(','));
    return answer.toString().split(',').map(Number);
  }

  async timeToLive(req: pb.LeaseTimeToLiveRequest): Promise<pb.LeaseTimeToLiveResponse> {
    const id = BigInt(req.ID ?? 0);
    const life = this.lessor.isPrimary
      ? await this.lifeHere(id, !!req.keys)
      : (JSON.parse(
          (
            await this.forward(TIME_TO_LIVE_CALL, JSON.stringify({ id: String(id), keys: !!req.keys }))
          ).toString(),
        ) as LeaseLife | null);
    const header = this.header();
    // An unknown lease is not an error: etcd answers TTL -1.
    if (!life) return { header, ID: id.toString(), TTL: '-1', grantedTTL: '0', keys: [] };
    return {
      header,
      ID: id.toString(),
      TTL: String(life.remaining),
      grantedTTL: String(life.granted),
      keys: life.keys.map((k) => Buffer.from(k, 'base64')),
    };
  }

  private async lifeHere(id: bigint, keys: boolean): Promise<LeaseLife | null> {
    if (!this.lessor.isPrimary) throw Errors.notLeader();
    await this.caughtUp();
    const found = this.lessor.timeToLive(id, keys);
    if (!found) return null;
    return {
      remaining: found.remaining,
      granted: found.granted,
      keys: found.keys.map((k) => Buffer.from(k).toString('base64')),
    };
  }

  /** Runs a leader call, trying again while there is no leader or it just changed. */
  private async forward(method: string, payload: string): Promise<Buffer> {
    const deadline = Date.now() + this.forwardTimeoutMs;
    for (;;) {
      try {
        return await this.proposer.callLeader(method, Buffer.from(payload));
      } catch (err) {
        const moving =
          err instanceof EtcdError &&
          (err.message === Errors.notLeader().message || err.message === Errors.noLeader().message);
        if (!moving) throw err;
        if (Date.now() + FORWARD_RETRY_MS >= deadline) throw Errors.timeout();
        await new Promise((r) => setTimeout(r, FORWARD_RETRY_MS));
      }
    }
  }

  /** LeaseLeases: this member's leases, answered locally as etcd does. */
  leases(): pb.LeaseLeasesResponse {
    return { header: this.header(), leases: this.lessor.list().map((id) => ({ ID: id.toString() })) };
  }

  stop(): void {
    this.expiry.stop();
  }

  /** Proposes the revokes of expired leases (together: they share one event-loop turn). */
  private revokeExpired(ids: bigint[]): void {
    for (const id of ids) {
      this.proposer.propose({ lease_revoke: { ID: id.toString() } }).then(
        (r) =>
          r.error &&
          this.logger.debug('expired lease not revoked', { lease: id.toString(), error: String(r.error) }),
        (err) =>
          this.logger.debug('expired lease revoke failed', { lease: id.toString(), error: String(err) }),
      );
    }
  }

  /** As etcd's leader, answers from a lessor that has applied everything committed. */
  private async caughtUp(): Promise<void> {
    if (this.proposer.appliedIndex < this.proposer.commitIndex) await this.proposer.readIndex();
  }

  private async propose<T>(request: Parameters<Proposer['propose']>[0]): Promise<T> {
    const result: ApplyResult = await this.proposer.propose(request);
    if (result.error) throw result.error;
    const res = result.response as { header: pb.ResponseHeader };
    res.header = this.header(Number(res.header.revision));
    return res as T;
  }
}
