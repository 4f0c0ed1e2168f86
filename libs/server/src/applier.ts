import { Lessor } from '../../lease/src';
import { EngineOp, MvccEvent, MvccStore, encodeNumber, metaKey, decodeNumber } from '../../storage/src';
import { AuthStore, AuthStoreOp, SimpleTokenProvider } from '../../auth/src';
import { AlarmStore } from './alarms';
import { AuthApplier } from './auth-applier';
import { fromAuthError } from './auth-errors';
import * as convert from './convert';
import { Errors, fromMvccError } from './etcd-errors';
import { AlarmType } from './etcd-types';
import { InternalRequest } from './internal-request';
import { applyLeaseGrant, applyLeaseRevoke } from './lease-apply';
import * as pb from './etcd-types';

export const APPLIED_INDEX_KEY = metaKey('applied-index');
/** The auth store's records live under this prefix. */
export const AUTH_PREFIX = metaKey('auth/');

/** What applying one request produced: a response, or the error to return to its client. */
export interface ApplyResult {
  response?: unknown;
  error?: unknown;
  /** Resolves when the request's deferred effects are done (a physical compaction). */
  done?: Promise<void>;
}

/** Told every event of each applied batch, in revision order, once the batch is written. */
export type EventPublisher = (events: MvccEvent[], revision: number) => void;

export interface AppliedEntry {
  index: number;
  /** Absent for log entries that carry no request (a new leader's empty entry, conf changes). */
  request?: InternalRequest;
}

/**
 * The apply loop's body: applies committed requests in log order to the MVCC store, then
 * writes their effects and the new applied index as one atomic RocksDB write, so that a
 * restart replays exactly the entries after the recorded index.
 */
export class Applier {
  private applied: number;
  /** The watch hub: fed every applied batch's events, whatever produced them. */
  publish: EventPublisher | undefined;

  constructor(
    private readonly store: MvccStore,
    readonly alarms: AlarmStore,
    readonly lessor: Lessor,
    readonly auth: AuthApplier = new AuthApplier(new AuthStore(), new SimpleTokenProvider(300_000)),
  ) {
    this.applied = decodeNumber(store.engine.get(APPLIED_INDEX_KEY));
  }

  /** Re-reads the applied index (after a snapshot replaced the state machine). */
  reload(): void {
    this.applied = decodeNumber(this.store.engine.get(APPLIED_INDEX_KEY));
  }

  get appliedIndex(): number {
    return this.applied;
  }

  applyBatch(entries: AppliedEntry[], extraOps: EngineOp[] = []): ApplyResult[] {
    const results: ApplyResult[] = [];
    for (const { index, request } of entries) {
      if (index <= this.applied) {
        results.push({ error: new Error(`entry ${index} already applied`) });
        continue;
      }
      results.push(request ? this.applyOne(request, index) : {});
      this.applied = index;
    }
    const { events } = this.store.flush([
      ...extraOps,
      ...this.alarms.takeOps(),
      ...this.lessor.takeOps(),
      ...this.auth.store.takeOps().map(prefixAuthOp),
      { type: 'put', key: APPLIED_INDEX_KEY, value: encodeNumber(this.applied) },
    ]);
    if (events.length > 0) this.publish?.(events, this.store.revision);
    return results;
  }

  private applyOne(req: InternalRequest, index: number): ApplyResult {
    try {
      // While CORRUPT is raised, etcd refuses every write it applies, before any other check.
      if (this.alarms.has(AlarmType.CORRUPT) && isRefusedWhenCorrupt(req)) return { error: Errors.corrupt() };
      // With auth on, writes are checked against the auth store as it is now (etcd's authApplier).
      if (this.auth.store.enabled) this.auth.checkWrite(req);
      // While space is short, etcd's capped applier refuses what would add data.
      if (
        (req.put || req.lease_grant || (req.txn && txnCost(req.txn) > 0)) &&
        this.alarms.has(AlarmType.NOSPACE)
      ) {
        return { error: Errors.noSpace() };
      }
      if (req.put) {
        const { revision, result } = this.store.put(convert.putRequest(req.put));
        return { response: convert.putResponse(result, revision) };
      }
      if (req.delete_range) {
        const { revision, result } = this.store.deleteRange(convert.deleteRangeRequest(req.delete_range));
        return { response: convert.deleteRangeResponse(result, revision) };
      }
      if (req.txn) {
        const { revision, result } = this.store.txn(convert.txnRequest(req.txn));
        return { response: convert.txnResponse(result, revision) };
      }
      if (req.compaction) {
        const { revision, done } = this.store.compact(Number(req.compaction.revision ?? 0));
        // Failures of the background work surface to a client waiting on `physical` only.
        done.catch(() => undefined);
        const response: pb.CompactionResponse = { header: { revision } };
        return { response, done };
      }
      if (req.alarm) {
        const response: pb.AlarmResponse = {
          header: { revision: this.store.revision },
          alarms: this.alarms.apply(req.alarm),
        };
        return { response };
      }
      if (req.lease_grant) return applyLeaseGrant(this.lessor, this.store, req.lease_grant);
      if (req.lease_revoke) return applyLeaseRevoke(this.lessor, this.store, req.lease_revoke);
      const authResponse = this.auth.apply(req, index, this.store.revision);
      if (authResponse) return { response: authResponse };
      return { error: new Error('empty internal request') };
    } catch (err) {
      return { error: fromAuthError(fromMvccError(err)) };
    }
  }
}

function isRefusedWhenCorrupt(req: InternalRequest): boolean {
  return !!(req.put || req.delete_range || req.txn || req.compaction || req.lease_grant || req.lease_revoke);
}

function prefixAuthOp(op: AuthStoreOp): EngineOp {
  const key = Buffer.concat([AUTH_PREFIX, Buffer.from(op.key, 'utf8')]);
  return op.type === 'put' ? { type: 'put', key, value: op.value } : { type: 'del', key };
}

/** Bytes etcd charges a key-value against the quota on top of its request (etcd's kvOverhead). */
const KV_OVERHEAD = 256;

/** etcd's quota cost of a put: its size plus the per-key overhead. */
export function putCost(req: pb.PutRequest): number {
  return (req.key?.length ?? 0) + (req.value?.length ?? 0) + KV_OVERHEAD;
}

/**
 * etcd 3.4's quota cost of a txn: the puts of its costlier branch. As there, only the branch's
 * own puts count, not those in nested txns.
 */
export function txnCost(req: pb.TxnRequest): number {
  const branch = (ops: pb.RequestOp[] | undefined) =>
    (ops ?? []).reduce((sum, op) => sum + (op.request_put ? putCost(op.request_put) : 0), 0);
  return Math.max(branch(req.success), branch(req.failure));
}
