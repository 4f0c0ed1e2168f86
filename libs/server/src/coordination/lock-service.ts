import type { AuthInfo } from '../../../auth/src';
import { Errors } from '../etcd-errors';
import type * as pb from '../etcd-types';
import {
  CoordinationMember,
  QueueEntry,
  createRevisionIs,
  firstCreated,
  sessionLease,
  waitPredecessors,
} from './queue';

export interface LockRequest {
  name?: Buffer;
  lease?: string;
}

export interface LockResponse {
  header: pb.ResponseHeader;
  key: Buffer;
}

/**
 * v3lockpb.Lock as etcd 3.4 serves it: the lock is held by the oldest key under `name/`; a
 * contender adds `name/<lease hex>` (or finds it already there) and waits for its
 * predecessors to go.
 */
export class LockService {
  constructor(private readonly member: CoordinationMember) {}

  async lock(req: LockRequest, signal: AbortSignal, auth?: AuthInfo): Promise<LockResponse> {
    const lease = await sessionLease(this.member, req.lease);
    const entry = new QueueEntry(req.name ?? Buffer.alloc(0), lease);
    const owner: pb.RequestOp = { request_range: firstCreated(entry.prefix) };
    const res = await this.member.txn(
      {
        compare: [createRevisionIs(entry.key, 0)],
        success: [
          { request_put: { key: entry.key, value: Buffer.alloc(0), lease: lease.toString() } },
          owner,
        ],
        // The lease already queues here (a retried Lock): keep its place.
        failure: [{ request_range: { key: entry.key } }, owner],
      },
      auth,
    );
    const header = res.header as pb.ResponseHeader;
    const myRev = res.succeeded
      ? Number(header.revision)
      : Number(res.responses[0].response_range?.kvs[0].create_revision);
    const first = res.responses[1].response_range?.kvs ?? [];
    if (first.length === 0 || Number(first[0].create_revision) === myRev) return { header, key: entry.key };
    try {
      const waited = await waitPredecessors(
        this.member,
        entry,
        myRev - 1,
        Number(header.revision),
        signal,
        auth,
      );
      return { header: waited, key: entry.key };
    } catch (err) {
      // Never leave a waiter's key behind: it would block everyone queued after it.
      await this.unlock({ key: entry.key }, auth).catch(() => undefined);
      throw err;
    }
  }

  async unlock(req: { key?: Buffer }, auth?: AuthInfo): Promise<{ header: pb.ResponseHeader }> {
    const key = req.key ?? Buffer.alloc(0);
    if (key.length === 0) throw Errors.emptyKey();
    const res = await this.member.deleteRange({ key }, auth);
    return { header: res.header as pb.ResponseHeader };
  }
}
