import * as mvcc from '../../storage/src';
import * as pb from './etcd-types';

/** Conversions between the wire shapes (etcd-types) and the MVCC store's own types. */

const EMPTY = Buffer.alloc(0);
const num = (v: pb.Int64 | null | undefined): number => (v == null || v === '' ? 0 : Number(v));
const big = (v: pb.Int64 | null | undefined): bigint => (v == null || v === '' ? 0n : BigInt(v));
const bytes = (v: Buffer | null | undefined): Buffer => v ?? EMPTY;

export function rangeRequest(r: pb.RangeRequest): mvcc.RangeRequest {
  return {
    key: bytes(r.key),
    rangeEnd: r.range_end ?? undefined,
    limit: num(r.limit),
    revision: num(r.revision),
    sortOrder: r.sort_order ?? 0,
    sortTarget: r.sort_target ?? 0,
    keysOnly: !!r.keys_only,
    countOnly: !!r.count_only,
    minModRevision: num(r.min_mod_revision),
    maxModRevision: num(r.max_mod_revision),
    minCreateRevision: num(r.min_create_revision),
    maxCreateRevision: num(r.max_create_revision),
  };
}

export function putRequest(r: pb.PutRequest): mvcc.PutRequest {
  return {
    key: bytes(r.key),
    value: bytes(r.value),
    lease: big(r.lease),
    prevKv: !!r.prev_kv,
    ignoreValue: !!r.ignore_value,
    ignoreLease: !!r.ignore_lease,
  };
}

export function deleteRangeRequest(r: pb.DeleteRangeRequest): mvcc.DeleteRangeRequest {
  return { key: bytes(r.key), rangeEnd: r.range_end ?? undefined, prevKv: !!r.prev_kv };
}

export function compare(c: pb.Compare): mvcc.Compare {
  return {
    result: c.result ?? 0,
    target: c.target ?? 0,
    key: bytes(c.key),
    rangeEnd: c.range_end ?? undefined,
    version: num(c.version),
    createRevision: num(c.create_revision),
    modRevision: num(c.mod_revision),
    value: bytes(c.value),
    lease: big(c.lease),
  };
}

export function requestOp(op: pb.RequestOp): mvcc.RequestOp {
  if (op.request_range) return { range: rangeRequest(op.request_range) };
  if (op.request_put) return { put: putRequest(op.request_put) };
  if (op.request_delete_range) return { deleteRange: deleteRangeRequest(op.request_delete_range) };
  if (op.request_txn) return { txn: txnRequest(op.request_txn) };
  // An op with no request set: etcd treats it as an empty range on the empty key.
  return { range: { key: EMPTY } };
}

export function txnRequest(r: pb.TxnRequest): mvcc.TxnRequest {
  return {
    compare: (r.compare ?? []).map(compare),
    success: (r.success ?? []).map(requestOp),
    failure: (r.failure ?? []).map(requestOp),
  };
}

export function keyValue(kv: mvcc.KeyValue): pb.KeyValue {
  return {
    key: kv.key,
    create_revision: kv.createRevision,
    mod_revision: kv.modRevision,
    version: kv.version,
    value: kv.value,
    lease: kv.lease === 0n ? 0 : kv.lease.toString(),
  };
}

/** Responses nested inside a txn carry a header with only the revision, as etcd's do. */
const revisionHeader = (revision: number): Partial<pb.ResponseHeader> => ({ revision });

export function rangeResponse(r: mvcc.RangeResult, revision: number): pb.RangeResponse {
  return { header: revisionHeader(revision), kvs: r.kvs.map(keyValue), more: r.more, count: r.count };
}

export function putResponse(r: mvcc.PutResult, revision: number): pb.PutResponse {
  return { header: revisionHeader(revision), prev_kv: r.prevKv ? keyValue(r.prevKv) : null };
}

export function deleteRangeResponse(r: mvcc.DeleteRangeResult, revision: number): pb.DeleteRangeResponse {
  return { header: revisionHeader(revision), deleted: r.deleted, prev_kvs: r.prevKvs.map(keyValue) };
}

/** A txn's response tree, each nested response stamped with the revision etcd gives it. */
export function txnResponse(r: mvcc.TxnResult, revision: number, nested = false): pb.TxnResponse {
  return {
    header: nested ? {} : revisionHeader(revision),
    succeeded: r.succeeded,
    responses: r.responses.map((op): pb.ResponseOp => {
      if ('range' in op) return { response_range: rangeResponse(op.range, op.revision) };
      if ('put' in op) return { response_put: putResponse(op.put, op.revision) };
      if ('deleteRange' in op)
        return { response_delete_range: deleteRangeResponse(op.deleteRange, op.revision) };
      return { response_txn: txnResponse(op.txn, 0, true) };
    }),
  };
}

/**
 * What a request looks like after a trip through etcd's raft log: its encoder drops empty
 * byte fields, so a present but empty range_end arrives absent. Served locally, the same
 * field means "every key from key on"; applied from the log, it means "just key". Writes are
 * normalized with this before they are proposed, to give exactly etcd's answers.
 */
export function asLogged<T extends { range_end?: Buffer | null }>(req: T): T {
  return req.range_end && req.range_end.length === 0 ? { ...req, range_end: undefined } : req;
}

export function txnAsLogged(r: pb.TxnRequest): pb.TxnRequest {
  return {
    compare: (r.compare ?? []).map(asLogged),
    success: (r.success ?? []).map(opAsLogged),
    failure: (r.failure ?? []).map(opAsLogged),
  };
}

function opAsLogged(op: pb.RequestOp): pb.RequestOp {
  if (op.request_range) return { request_range: asLogged(op.request_range) };
  if (op.request_delete_range) return { request_delete_range: asLogged(op.request_delete_range) };
  if (op.request_txn) return { request_txn: txnAsLogged(op.request_txn) };
  return op;
}
