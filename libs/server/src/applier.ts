import { EngineOp, MvccStore, encodeNumber, metaKey, decodeNumber } from '../../storage/src';
import * as convert from './convert';
import { fromMvccError } from './etcd-errors';
import { InternalRequest } from './internal-request';
import * as pb from './etcd-types';

export const APPLIED_INDEX_KEY = metaKey('applied-index');

/** What applying one request produced: a response, or the error to return to its client. */
export interface ApplyResult {
  response?: unknown;
  error?: unknown;
  /** Resolves when the request's deferred effects are done (a physical compaction). */
  done?: Promise<void>;
}

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

  constructor(private readonly store: MvccStore) {
    this.applied = decodeNumber(store.engine.get(APPLIED_INDEX_KEY));
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
      results.push(request ? this.applyOne(request) : {});
      this.applied = index;
    }
    this.store.flush([
      ...extraOps,
      { type: 'put', key: APPLIED_INDEX_KEY, value: encodeNumber(this.applied) },
    ]);
    return results;
  }

  private applyOne(req: InternalRequest): ApplyResult {
    try {
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
        const response: pb.CompactionResponse = { header: { revision: String(revision) } };
        return { response, done };
      }
      return { error: new Error('empty internal request') };
    } catch (err) {
      return { error: fromMvccError(err) };
    }
  }
}
