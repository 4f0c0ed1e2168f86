import { AuthInfo, AuthStore } from '../../auth/src';
import * as pb from './etcd-types';

const NONE = Buffer.alloc(0);

/**
 * etcd's txn permission check: every compare needs read, every range read, every put write,
 * every delete write (and read with prev_kv). Nested txns are checked the same way.
 */
export function checkTxnAuth(store: AuthStore, info: AuthInfo | undefined, txn: pb.TxnRequest): void {
  for (const c of txn.compare ?? []) store.checkRange(info, c.key ?? NONE, c.range_end);
  checkOps(store, info, txn.success ?? []);
  checkOps(store, info, txn.failure ?? []);
}

function checkOps(store: AuthStore, info: AuthInfo | undefined, ops: pb.RequestOp[]): void {
  for (const op of ops) {
    if (op.request_range) store.checkRange(info, op.request_range.key ?? NONE, op.request_range.range_end);
    else if (op.request_put) checkPutAuth(store, info, op.request_put);
    else if (op.request_delete_range) checkDeleteRangeAuth(store, info, op.request_delete_range);
    else if (op.request_txn) checkTxnAuth(store, info, op.request_txn);
  }
}

export function checkPutAuth(store: AuthStore, info: AuthInfo | undefined, req: pb.PutRequest): void {
  const key = req.key ?? NONE;
  store.checkPut(info, key);
  if (req.prev_kv) store.checkRange(info, key);
}

export function checkDeleteRangeAuth(
  store: AuthStore,
  info: AuthInfo | undefined,
  req: pb.DeleteRangeRequest,
): void {
  const key = req.key ?? NONE;
  if (req.prev_kv) store.checkRange(info, key, req.range_end);
  store.checkDeleteRange(info, key, req.range_end);
}
