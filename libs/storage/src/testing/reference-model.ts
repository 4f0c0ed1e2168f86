import {
  Compare,
  CompareResult,
  CompareTarget,
  DeleteRangeRequest,
  KeyValue,
  PutRequest,
  RangeRequest,
  RangeResult,
  RequestOp,
  ResponseOp,
  SortOrder,
  SortTarget,
  TxnRequest,
  TxnResult,
} from '../types';

type State = Map<string, KeyValue>;

/**
 * A deliberately naive reference for the MVCC store: it keeps a full copy of the key space
 * at every revision. Slow and obviously right, it is what the real store is checked against.
 */
export class ReferenceModel {
  // Like etcd, the store starts empty at revision 1.
  private history: State[] = [new Map(), new Map()];
  compacted = -1;

  get revision(): number {
    return this.history.length - 1;
  }

  private stateAt(rev: number): State {
    return this.history[rev];
  }

  range(req: RangeRequest, curRev = this.revision, view: State = this.stateAt(curRev)): RangeResult {
    let rev = req.revision ?? 0;
    if (rev > curRev) throw new Error('future-revision');
    if (rev <= 0) rev = curRev;
    if (rev < this.compacted) throw new Error('compacted');
    const state = rev === curRev ? view : this.stateAt(rev);
    let kvs = [...state.values()].filter((kv) => inRange(kv.key, req.key, req.rangeEnd));
    kvs.sort((a, b) => Buffer.compare(a.key, b.key));
    const count = kvs.length;
    if (req.countOnly) return { kvs: [], more: false, count };
    kvs = kvs.filter(
      (kv) =>
        !(req.minModRevision && kv.modRevision < req.minModRevision) &&
        !(req.maxModRevision && kv.modRevision > req.maxModRevision) &&
        !(req.minCreateRevision && kv.createRevision < req.minCreateRevision) &&
        !(req.maxCreateRevision && kv.createRevision > req.maxCreateRevision),
    );
    let order = req.sortOrder ?? SortOrder.NONE;
    const target = req.sortTarget ?? SortTarget.KEY;
    const limit = req.limit ?? 0;
    const filtered =
      req.minModRevision || req.maxModRevision || req.minCreateRevision || req.maxCreateRevision;
    // etcd: with no explicit order (and no filter) only the first limit + 1 keys are fetched,
    // then a non-key target still sorts them ascending.
    if (order === SortOrder.NONE && !filtered && limit > 0) kvs = kvs.slice(0, limit + 1);
    if (order === SortOrder.NONE && target !== SortTarget.KEY) order = SortOrder.ASCEND;
    if (order !== SortOrder.NONE) {
      const field = (kv: KeyValue): Buffer | number =>
        target === SortTarget.KEY
          ? kv.key
          : target === SortTarget.VALUE
            ? kv.value
            : target === SortTarget.VERSION
              ? kv.version
              : target === SortTarget.CREATE
                ? kv.createRevision
                : kv.modRevision;
      const cmp = (a: KeyValue, b: KeyValue): number => {
        const x = field(a);
        const y = field(b);
        return Buffer.isBuffer(x) ? Buffer.compare(x, y as Buffer) : Math.sign(x - (y as number));
      };
      kvs.sort((a, b) => (order === SortOrder.DESCEND ? -cmp(a, b) : cmp(a, b)));
    }
    const more = limit > 0 && kvs.length > limit;
    if (more) kvs = kvs.slice(0, limit);
    if (req.keysOnly) kvs = kvs.map((kv) => ({ ...kv, value: Buffer.alloc(0) }));
    return { kvs, more, count };
  }

  put(req: PutRequest): { revision: number; prevKv?: KeyValue } {
    const next = new Map(this.stateAt(this.revision));
    const rev = this.revision + 1;
    const prevKv = this.putInto(next, req, rev);
    this.history.push(next);
    return { revision: rev, prevKv: req.prevKv ? prevKv : undefined };
  }

  private putInto(state: State, req: PutRequest, rev: number): KeyValue | undefined {
    const k = req.key.toString('latin1');
    const prev = state.get(k);
    if ((req.ignoreValue || req.ignoreLease) && !prev) throw new Error('key-not-found');
    state.set(k, {
      key: req.key,
      value: req.ignoreValue ? prev!.value : (req.value ?? Buffer.alloc(0)),
      createRevision: prev ? prev.createRevision : rev,
      modRevision: rev,
      version: prev ? prev.version + 1 : 1,
      lease: req.ignoreLease ? prev!.lease : (req.lease ?? 0n),
    });
    return prev;
  }

  deleteRange(req: DeleteRangeRequest): { revision: number; deleted: number; prevKvs: KeyValue[] } {
    const next = new Map(this.stateAt(this.revision));
    const prevKvs = this.deleteFrom(next, req);
    if (prevKvs.length > 0) this.history.push(next);
    return { revision: this.revision, deleted: prevKvs.length, prevKvs: req.prevKv ? prevKvs : [] };
  }

  private deleteFrom(state: State, req: DeleteRangeRequest): KeyValue[] {
    const victims = [...state.values()]
      .filter((kv) => inRange(kv.key, req.key, req.rangeEnd))
      .sort((a, b) => Buffer.compare(a.key, b.key));
    for (const kv of victims) state.delete(kv.key.toString('latin1'));
    return victims;
  }

  txn(req: TxnRequest): { revision: number; result: TxnResult } {
    const before = this.stateAt(this.revision);
    const next = new Map(before);
    const rev = this.revision + 1;
    let changed = false;
    const run = (t: TxnRequest): TxnResult => {
      const ok = t.compare.every((c) => compare(before, c));
      const ops = ok ? t.success : t.failure;
      const responses = ops.map((op: RequestOp): ResponseOp => {
        if ('range' in op) {
          const viewRev = changed ? rev : rev - 1;
          return { range: this.range(op.range, viewRev, next), revision: viewRev };
        }
        if ('put' in op) {
          const prev = this.putInto(next, op.put, rev);
          changed = true;
          return { put: op.put.prevKv && prev ? { prevKv: prev } : {}, revision: rev };
        }
        if ('deleteRange' in op) {
          const prevKvs = this.deleteFrom(next, op.deleteRange);
          if (prevKvs.length > 0) changed = true;
          const deleteRange = { deleted: prevKvs.length, prevKvs: op.deleteRange.prevKv ? prevKvs : [] };
          return { deleteRange, revision: changed ? rev : rev - 1 };
        }
        return { txn: run(op.txn), revision: 0 };
      });
      return { succeeded: ok, responses };
    };
    const result = run(req);
    if (changed) this.history.push(next);
    return { revision: this.revision, result };
  }

  compact(rev: number): void {
    if (rev <= this.compacted) throw new Error('compacted');
    if (rev > this.revision) throw new Error('future-revision');
    this.compacted = rev;
  }
}

function inRange(key: Buffer, start: Buffer, end: Buffer | undefined): boolean {
  if (end === undefined) return key.equals(start);
  if (end.length === 0 || (end.length === 1 && end[0] === 0)) return Buffer.compare(key, start) >= 0;
  return Buffer.compare(key, start) >= 0 && Buffer.compare(key, end) < 0;
}

function compare(state: State, c: Compare): boolean {
  const kvs = [...state.values()].filter((kv) => inRange(kv.key, c.key, c.rangeEnd));
  if (kvs.length === 0) {
    if (c.target === CompareTarget.VALUE) return false;
    return check(c, 0);
  }
  return kvs.every((kv) => {
    switch (c.target) {
      case CompareTarget.VALUE:
        return check(c, Buffer.compare(kv.value, c.value ?? Buffer.alloc(0)), kv);
      case CompareTarget.VERSION:
        return check(c, Math.sign(kv.version - (c.version ?? 0)), kv);
      case CompareTarget.CREATE:
        return check(c, Math.sign(kv.createRevision - (c.createRevision ?? 0)), kv);
      case CompareTarget.MOD:
        return check(c, Math.sign(kv.modRevision - (c.modRevision ?? 0)), kv);
      default:
        return check(c, kv.lease === (c.lease ?? 0n) ? 0 : kv.lease < (c.lease ?? 0n) ? -1 : 1, kv);
    }
  });
}

function check(c: Compare, order: number, kv?: KeyValue): boolean {
  if (!kv) {
    // Comparing a missing key: every numeric field is zero.
    const operand =
      c.target === CompareTarget.VERSION
        ? (c.version ?? 0)
        : c.target === CompareTarget.CREATE
          ? (c.createRevision ?? 0)
          : c.target === CompareTarget.MOD
            ? (c.modRevision ?? 0)
            : Number(c.lease ?? 0n);
    order = Math.sign(0 - operand);
  }
  switch (c.result) {
    case CompareResult.EQUAL:
      return order === 0;
    case CompareResult.NOT_EQUAL:
      return order !== 0;
    case CompareResult.GREATER:
      return order > 0;
    default:
      return order < 0;
  }
}
