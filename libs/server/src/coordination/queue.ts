import type { AuthInfo } from '../../../auth/src';
import { EtcdError, GrpcCode } from '../etcd-errors';
import type * as pb from '../etcd-types';
import type { Member } from '../member';
import { prefixEnd, waitForDelete } from './key-waits';

/** The parts of a member the Lock and Election services work through (its own client API). */
export type CoordinationMember = Pick<
  Member,
  'range' | 'txn' | 'deleteRange' | 'watchHub' | 'leases' | 'header'
>;

const SORT_ASCEND = 1;
const SORT_DESCEND = 2;
const SORT_BY_CREATE = 2;
const COMPARE_EQUAL = 0;
const TARGET_CREATE = 1;
// etcd's session TTL when a Lock or Campaign names no lease.
const DEFAULT_SESSION_TTL = 60;

/** The waiter's own key went away (its lease expired or was revoked) before it got its turn. */
export const sessionExpired = () => new EtcdError(GrpcCode.UNKNOWN, 'mutex: session is expired');

/**
 * A contender's place in the queue under `name/`: the key `name/<lease hex>` (the layout of
 * etcd's concurrency package, so servers and client-side recipes contend on the same keys).
 */
export class QueueEntry {
  readonly prefix: Buffer;
  readonly key: Buffer;

  constructor(
    name: Buffer,
    readonly lease: bigint,
  ) {
    this.prefix = Buffer.concat([name, Buffer.from('/')]);
    this.key = Buffer.concat([this.prefix, Buffer.from(lease.toString(16))]);
  }
}

/** The lease a request names, or (lease 0) a new one with etcd's default session TTL. */
export async function sessionLease(member: CoordinationMember, lease: string | undefined): Promise<bigint> {
  const id = BigInt(lease ?? 0);
  if (id !== 0n) return id;
  const granted = await member.leases.grant({ TTL: String(DEFAULT_SESSION_TTL) });
  return BigInt(granted.ID);
}

export const createRevisionIs = (key: Buffer, rev: number | string): pb.Compare => ({
  key,
  target: TARGET_CREATE,
  result: COMPARE_EQUAL,
  create_revision: String(rev),
});

/** The oldest key under `prefix` (etcd's WithFirstCreate). */
export const firstCreated = (prefix: Buffer): pb.RangeRequest => ({
  key: prefix,
  range_end: prefixEnd(prefix),
  sort_target: SORT_BY_CREATE,
  sort_order: SORT_ASCEND,
  limit: '1',
});

/**
 * Waits until no key under `prefix` was created at or before `maxCreateRevision`, waiting for
 * the deletion of the youngest such key each time (not for everyone: no thundering herd).
 * Rejects with `sessionExpired` as soon as the waiter's own key (seen at `seenAt`) is deleted
 * meanwhile. Resolves with the header of the last look.
 */
export async function waitPredecessors(
  member: CoordinationMember,
  entry: QueueEntry,
  maxCreateRevision: number,
  seenAt: number,
  signal: AbortSignal,
  auth: AuthInfo | undefined,
): Promise<pb.ResponseHeader> {
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal.addEventListener('abort', onAbort);
  try {
    const ownLost = waitForDelete(member.watchHub, entry.key, seenAt + 1, stop.signal).then(() =>
      Promise.reject(sessionExpired()),
    );
    ownLost.catch(() => undefined);
    return await Promise.race([
      ownLost,
      lookAndWait(member, entry.prefix, maxCreateRevision, stop.signal, auth),
    ]);
  } finally {
    signal.removeEventListener('abort', onAbort);
    stop.abort();
  }
}

async function lookAndWait(
  member: CoordinationMember,
  prefix: Buffer,
  maxCreateRevision: number,
  signal: AbortSignal,
  auth: AuthInfo | undefined,
): Promise<pb.ResponseHeader> {
  for (;;) {
    const res = await member.range(
      {
        key: prefix,
        range_end: prefixEnd(prefix),
        sort_target: SORT_BY_CREATE,
        sort_order: SORT_DESCEND,
        limit: '1',
        max_create_revision: String(maxCreateRevision),
      },
      auth,
    );
    if (res.kvs.length === 0) return res.header as pb.ResponseHeader;
    await waitForDelete(member.watchHub, res.kvs[0].key, Number(res.header?.revision), signal);
  }
}
