import { Errors, pb } from '../../server/src';

/**
 * Request checks made before anything is proposed, in etcd's order and with its errors:
 * a request that fails here changes nothing.
 */

const isEmpty = (b: Buffer | null | undefined) => !b || b.length === 0;
const isZero = (v: pb.Int64 | null | undefined) => v == null || v === '' || BigInt(v) === 0n;

export function checkRange(r: pb.RangeRequest): void {
  if (isEmpty(r.key)) throw Errors.emptyKey();
}

export function checkPut(r: pb.PutRequest): void {
  if (isEmpty(r.key)) throw Errors.emptyKey();
  if (r.ignore_value && !isEmpty(r.value)) throw Errors.valueProvided();
  if (r.ignore_lease && !isZero(r.lease)) throw Errors.leaseProvided();
}

export function checkDeleteRange(r: pb.DeleteRangeRequest): void {
  if (isEmpty(r.key)) throw Errors.emptyKey();
}

export function checkTxn(r: pb.TxnRequest, maxTxnOps: number): void {
  checkTxnShape(r, maxTxnOps);
  // Overlap checks run after the size checks so a huge txn cannot make them quadratic.
  checkIntervals(r.success ?? []);
  checkIntervals(r.failure ?? []);
}

function checkTxnShape(r: pb.TxnRequest, maxTxnOps: number): void {
  const compare = r.compare ?? [];
  const success = r.success ?? [];
  const failure = r.failure ?? [];
  const ops = Math.max(compare.length, success.length, failure.length);
  if (ops > maxTxnOps) throw Errors.tooManyOps();
  for (const c of compare) if (isEmpty(c.key)) throw Errors.emptyKey();
  // Nested txns share the budget with their parent.
  for (const op of [...success, ...failure]) checkOp(op, maxTxnOps - ops);
}

function checkOp(op: pb.RequestOp, maxTxnOps: number): void {
  if (op.request_range) return checkRange(op.request_range);
  if (op.request_put) return checkPut(op.request_put);
  if (op.request_delete_range) return checkDeleteRange(op.request_delete_range);
  if (op.request_txn) return checkTxnShape(op.request_txn, maxTxnOps);
  // An op with nothing set: etcd answers "key not found".
  throw Errors.keyNotFound();
}

/** A key interval [start, end) as etcd's checks see it; end undefined = the single key start. */
interface Interval {
  start: Buffer;
  end: Buffer | undefined;
}

function intersects(iv: Interval, key: Buffer): boolean {
  if (iv.end === undefined) return iv.start.equals(key);
  return Buffer.compare(iv.start, key) <= 0 && Buffer.compare(key, iv.end) < 0;
}

/**
 * etcd's rule for writes in one txn branch: a key may be put at most once, and never inside a
 * range the branch (or a txn nested in it) deletes. The two branches of a nested txn exclude
 * each other, so the same put in both is fine. Returns the branch's puts and deletes.
 */
function checkIntervals(ops: pb.RequestOp[]): { puts: Set<string>; dels: Interval[] } {
  const dels: Interval[] = [];
  for (const op of ops) {
    const d = op.request_delete_range;
    if (d)
      dels.push({ start: d.key ?? Buffer.alloc(0), end: isEmpty(d.range_end) ? undefined : d.range_end! });
  }
  const puts = new Set<string>();
  const hitsDelete = (key: string) => dels.some((iv) => intersects(iv, Buffer.from(key, 'latin1')));
  for (const op of ops) {
    if (!op.request_txn) continue;
    const then = checkIntervals(op.request_txn.success ?? []);
    const otherwise = checkIntervals(op.request_txn.failure ?? []);
    for (const k of then.puts) {
      if (puts.has(k) || hitsDelete(k)) throw Errors.duplicateKey();
      puts.add(k);
    }
    for (const k of otherwise.puts) {
      if ((puts.has(k) && !then.puts.has(k)) || hitsDelete(k)) throw Errors.duplicateKey();
      puts.add(k);
    }
    dels.push(...then.dels, ...otherwise.dels);
  }
  for (const op of ops) {
    const p = op.request_put;
    if (!p) continue;
    const k = (p.key ?? Buffer.alloc(0)).toString('latin1');
    if (puts.has(k) || hitsDelete(k)) throw Errors.duplicateKey();
    puts.add(k);
  }
  return { puts, dels };
}
