import { Engine, EngineOp } from './rocks';
import {
  REV_KEYSPACE_END,
  StoredRecord,
  decodeNumber,
  decodeRecord,
  encodeNumber,
  encodeRecord,
  metaKey,
  parseRevKey,
  recordToKeyValue,
  revKey,
  revKeyLowerBound,
} from './encoding';
import { MvccError } from './errors';
import { IndexedRevision, KeyHistory, KeyIndex, KeyRange, keyBuffer, keyString, liveAt } from './key-index';
import {
  Compare,
  CompareResult,
  CompareTarget,
  DeleteRangeRequest,
  DeleteRangeResult,
  EventType,
  KeyValue,
  MvccEvent,
  PutRequest,
  PutResult,
  RangeRequest,
  RangeResult,
  RequestOp,
  ResponseOp,
  SortOrder,
  SortTarget,
  TxnRequest,
  TxnResult,
  WriteOutcome,
} from './types';
import { Compactor } from './compactor';
import { Crc32c } from './crc32c';

const META_REVISION = metaKey('revision');
const META_COMPACT = metaKey('compact-scheduled');
const META_COMPACT_DONE = metaKey('compact-finished');

/** The store's view of the lessor: which lease ids exist, and which keys each one holds. */
export interface LeaseLookup {
  exists(id: bigint): boolean;
  /** A write moved `key` from lease `from` to lease `to` (0n: none); only called when they differ. */
  keyLeaseChanged(key: string, from: bigint, to: bigint): void;
}

const NO_LEASES: LeaseLookup = { exists: () => false, keyLeaseChanged: () => undefined };

/** The revision range a write in progress reads and writes at (etcd's write txn). */
class WriteTxn {
  changes = 0;
  constructor(readonly beginRev: number) {}
  get writeRev(): number {
    return this.beginRev + 1;
  }
  /** Reads inside a write see its own earlier changes. */
  get viewRev(): number {
    return this.changes > 0 ? this.beginRev + 1 : this.beginRev;
  }
}

/** Which branch a txn (and each nested txn in it) takes, decided before anything is applied. */
interface TxnPlan {
  succeeded: boolean;
  ops: RequestOp[];
  nested: Map<number, TxnPlan>;
}

/** The ops an applied batch wrote, and the events it produced, in revision order. */
export interface FlushedBatch {
  events: MvccEvent[];
}

/**
 * The multi-version key-value store: etcd's revision model on RocksDB.
 *
 * Writes are applied synchronously, one request after another, by the apply loop; their
 * effects collect in an open batch that `flush` writes to RocksDB as one atomic write,
 * together with whatever the caller adds (its applied index, lease and auth state). Nothing
 * awaits between an apply and its flush, so readers never see half a batch.
 */
export class MvccStore {
  private index = new KeyIndex();
  // etcd's store starts at revision 1 (so the first write is revision 2) and uncompacted (-1).
  private currentRev = 1;
  private compactRev = -1;
  /**
   * Values written in the open batch, by their index entry: reads inside the batch find them
   * here. A WeakMap, new for each batch: a Map refilled batch after batch would keep them
   * alive until a full collection (see KeyTable); a WeakMap's table has no such link.
   */
  private pendingValues = new WeakMap<IndexedRevision, Buffer>();
  private pendingOps: EngineOp[] = [];
  private pendingEvents: MvccEvent[] = [];
  private compactor: Compactor;
  // Bytes of the revision records on disk (keys and values): the store's size in use.
  private recordBytes = 0;
  leases: LeaseLookup = NO_LEASES;

  private constructor(readonly engine: Engine) {
    this.compactor = this.newCompactor();
  }

  private newCompactor(): Compactor {
    return new Compactor(
      this.engine,
      this.index,
      (rev) => [{ type: 'put', key: META_COMPACT_DONE, value: encodeNumber(rev) }],
      (bytes) => (this.recordBytes -= bytes),
    );
  }

  /**
   * Forgets everything held in memory and rebuilds it from the engine, whose revisions were
   * replaced underneath (a snapshot installed). The caller awaited `idle()` before replacing
   * them and serves no reads until this resolves.
   */
  async reload(): Promise<void> {
    await this.compactor.idle();
    this.index = new KeyIndex();
    this.compactor = this.newCompactor();
    this.currentRev = 1;
    this.compactRev = -1;
    this.recordBytes = 0;
    this.pendingValues = new WeakMap();
    this.pendingOps = [];
    this.pendingEvents = [];
    await this.rebuild();
  }

  /** Opens the store and rebuilds the key index from the revisions on disk. */
  static async open(engine: Engine): Promise<MvccStore> {
    const store = new MvccStore(engine);
    await store.rebuild();
    return store;
  }

  private async rebuild(): Promise<void> {
    let lastMain = 0;
    for await (const chunk of this.engine.scan(revKeyLowerBound(0), REV_KEYSPACE_END)) {
      for (const [k, v] of chunk) {
        const { main, sub } = parseRevKey(k);
        const r = decodeRecord(v);
        this.index.append(keyString(r.key), {
          main,
          sub,
          createRevision: r.createRevision,
          version: r.version,
          lease: r.lease,
          tombstone: r.tombstone,
          size: k.length + v.length,
        });
        this.recordBytes += k.length + v.length;
        lastMain = main;
      }
    }
    const [rev, scheduled, finished] = this.engine.getMany([META_REVISION, META_COMPACT, META_COMPACT_DONE]);
    this.currentRev = Math.max(decodeNumber(rev, 1), lastMain);
    this.compactRev = decodeNumber(scheduled, -1);
    // A compaction interrupted by a restart is finished in the background.
    if (this.compactRev > decodeNumber(finished)) void this.compactor.schedule(this.compactRev);
  }

  get revision(): number {
    return this.currentRev;
  }

  get compactedRevision(): number {
    return this.compactRev;
  }

  /**
   * Bytes the revision records take (keys and values as stored), pending ones included: what
   * the store holds, whatever RocksDB's files hold on top (old versions, tombstones, the log).
   * Compaction lowers it once the compacted revisions are physically gone.
   */
  get sizeInUse(): number {
    return this.recordBytes;
  }

  /**
   * etcd's HashKV: a CRC-32C over every revision record (RocksDB key and value) up to `rev`
   * (0 = the current revision) that compaction keeps. Deterministic for a given history: it
   * waits for background compaction so that the records it reads are exactly the ones kept.
   */
  async hashKV(rev: number): Promise<{ hash: number; revision: number; compactRevision: number }> {
    await this.compactor.idle();
    const revision = this.currentRev;
    const compactRevision = this.compactRev;
    if (rev > 0 && rev <= compactRevision) throw new MvccError('compacted');
    if (rev > revision) throw new MvccError('future-revision');
    const upto = rev > 0 ? rev : revision;
    // Seeded as etcd seeds it (its bucket's name), so an empty store hashes as etcd's does.
    const h = new Crc32c().update(KEY_BUCKET);
    // The iterator reads a snapshot taken when it opens, right here, with nothing awaited.
    for await (const chunk of this.engine.scan(revKeyLowerBound(0), revKeyLowerBound(upto + 1))) {
      for (const [k, v] of chunk) h.update(k).update(v);
    }
    return { hash: h.digest(), revision, compactRevision };
  }

  /**
   * etcd's Hash: a CRC-32C over the whole store: every revision record on disk, then the current
   * and compacted revisions.
   */
  async hash(): Promise<{ hash: number; revision: number }> {
    await this.compactor.idle();
    const revision = this.currentRev;
    const h = new Crc32c();
    for await (const chunk of this.engine.scan(revKeyLowerBound(0), REV_KEYSPACE_END)) {
      for (const [k, v] of chunk) h.update(k).update(v);
    }
    h.update(encodeNumber(revision)).update(encodeNumber(this.compactRev));
    return { hash: h.digest(), revision };
  }

  /** Reads at the current state (or the historical revision the request names). */
  range(req: RangeRequest): { revision: number; result: RangeResult } {
    return { revision: this.currentRev, result: this.rangeAt(req, this.currentRev) };
  }

  /** Visits every live key that is attached to a lease (the lessor re-attaches them at start). */
  forEachLeasedKey(visit: (key: string, lease: bigint) => void): void {
    this.index.forEachLive({ start: '', end: null }, this.currentRev, (key, entry) => {
      if (entry.lease !== 0n) visit(key, entry.lease);
      return true;
    });
  }

  /**
   * The events of revisions [from, to] as recorded on disk, in revision order, a bounded chunk
   * at a time (the watch hub replays history with it). One RocksDB iterator: a consistent view.
   * Compaction may already have dropped revisions below the compacted revision; callers check.
   */
  async *history(from: number, to: number): AsyncGenerator<MvccEvent[]> {
    if (to < from) return;
    for await (const chunk of this.engine.scan(
      revKeyLowerBound(Math.max(from, 0)),
      revKeyLowerBound(to + 1),
    )) {
      yield chunk.map(([k, v]) => recordEvent(parseRevKey(k).main, decodeRecord(v)));
    }
  }

  // ---- writes (called by the apply loop; effects stay pending until flush) ----

  put(req: PutRequest): WriteOutcome<PutResult> {
    const lease = req.lease ?? 0n;
    if (lease !== 0n && !this.leases.exists(lease)) throw new MvccError('lease-not-found');
    const tx = new WriteTxn(this.currentRev);
    const result = this.applyPut(tx, req);
    return { revision: this.endTxn(tx), result };
  }

  deleteRange(req: DeleteRangeRequest): WriteOutcome<DeleteRangeResult> {
    const tx = new WriteTxn(this.currentRev);
    const result = this.applyDeleteRange(tx, req);
    return { revision: this.endTxn(tx), result };
  }

  txn(req: TxnRequest): WriteOutcome<TxnResult> {
    const plan = this.planTxn(req, this.currentRev);
    if (!isReadOnly(req)) this.checkPuts(plan);
    this.checkRanges(plan);
    const tx = new WriteTxn(this.currentRev);
    const result = this.applyPlan(tx, plan);
    return { revision: this.endTxn(tx), result };
  }

  /**
   * Marks every revision below `rev` unreachable (reads at `rev` still work) and starts
   * removing them in the background. The promise resolves once they are physically gone.
   */
  compact(rev: number): { revision: number; done: Promise<void> } {
    if (rev <= this.compactRev) throw new MvccError('compacted');
    if (rev > this.currentRev) throw new MvccError('future-revision');
    this.compactRev = rev;
    this.pendingOps.push({ type: 'put', key: META_COMPACT, value: encodeNumber(rev) });
    return { revision: this.currentRev, done: this.compactor.schedule(rev) };
  }

  /** Writes the open batch (plus `extra` ops) to RocksDB atomically and returns its events. */
  flush(extra: EngineOp[] = []): FlushedBatch {
    const ops = this.pendingOps;
    ops.push({ type: 'put', key: META_REVISION, value: encodeNumber(this.currentRev) });
    for (const op of extra) ops.push(op);
    this.engine.write(ops);
    const events = this.pendingEvents;
    this.pendingOps = [];
    this.pendingEvents = [];
    this.pendingValues = new WeakMap();
    return { events };
  }

  /** Waits for background compaction to finish (tests and shutdown). */
  async idle(): Promise<void> {
    await this.compactor.idle();
  }

  // ---- internals ----

  private endTxn(tx: WriteTxn): number {
    if (tx.changes > 0) this.currentRev = tx.writeRev;
    return this.currentRev;
  }

  private rangeAt(req: RangeRequest, curRev: number): RangeResult {
    let rev = req.revision ?? 0;
    if (rev > curRev) throw new MvccError('future-revision');
    if (rev <= 0) rev = curRev;
    if (rev < this.compactRev) throw new MvccError('compacted');

    const limit = req.limit ?? 0;
    const requestedOrder = req.sortOrder ?? SortOrder.NONE;
    const sortTarget = req.sortTarget ?? SortTarget.KEY;
    const filtered =
      !!req.minModRevision || !!req.maxModRevision || !!req.minCreateRevision || !!req.maxCreateRevision;
    // An explicit order or a filter needs every match; otherwise fetch one past the limit to
    // learn `more`. As in etcd, a non-key target named without an order still sorts (ascending),
    // but only the keys fetched: the first limit + 1 in key order.
    const fetch = requestedOrder !== SortOrder.NONE || filtered || limit <= 0 ? Infinity : limit + 1;
    const sortOrder =
      requestedOrder === SortOrder.NONE && sortTarget !== SortTarget.KEY ? SortOrder.ASCEND : requestedOrder;

    let count = 0;
    let found: [string, IndexedRevision][] = [];
    this.index.forEachLive(toKeyRange(req.key, req.rangeEnd), rev, (key, entry) => {
      count++;
      if (!req.countOnly && found.length < fetch) found.push([key, entry]);
      return true;
    });
    if (req.countOnly) return { kvs: [], more: false, count };

    if (filtered) {
      found = found.filter(
        ([, e]) =>
          !(req.minModRevision && e.main < req.minModRevision) &&
          !(req.maxModRevision && e.main > req.maxModRevision) &&
          !(req.minCreateRevision && e.createRevision < req.minCreateRevision) &&
          !(req.maxCreateRevision && e.createRevision > req.maxCreateRevision),
      );
    }

    let kvs: KeyValue[];
    if (sortTarget === SortTarget.VALUE && sortOrder !== SortOrder.NONE) {
      kvs = this.readKeyValues(found, false);
      sortKeyValues(kvs, sortOrder, (a, b) => Buffer.compare(a.value, b.value));
      kvs = truncate(kvs, limit);
      if (req.keysOnly) for (const kv of kvs) kv.value = EMPTY;
    } else {
      if (sortOrder !== SortOrder.NONE) sortEntries(found, sortOrder, sortTarget);
      kvs = this.readKeyValues(truncate(found, limit), !!req.keysOnly);
    }
    return { kvs, more: limit > 0 && found.length > limit, count };
  }

  /** Builds KeyValues for index entries, reading values from the open batch or RocksDB. */
  private readKeyValues(entries: [string, IndexedRevision][], keysOnly: boolean): KeyValue[] {
    const kvs: KeyValue[] = entries.map(([key, e]) => ({
      key: keyBuffer(key),
      createRevision: e.createRevision,
      modRevision: e.main,
      version: e.version,
      value: EMPTY,
      lease: e.lease,
    }));
    if (keysOnly) return kvs;
    const missing: number[] = [];
    entries.forEach(([, e], i) => {
      const pending = this.pendingValues.get(e);
      if (pending) kvs[i].value = pending;
      else missing.push(i);
    });
    const values = this.engine.getMany(missing.map((i) => revKey(entries[i][1].main, entries[i][1].sub)));
    missing.forEach((i, j) => {
      const raw = values[j];
      if (!raw)
        throw new Error(`mvcc: revision ${entries[i][1].main}.${entries[i][1].sub} missing from disk`);
      kvs[i].value = decodeRecord(raw).value;
    });
    return kvs;
  }

  private readOne(key: string, entry: IndexedRevision): KeyValue {
    return this.readKeyValues([[key, entry]], false)[0];
  }

  /**
   * Writes a revision of `key` (as `keyStr` in the index) into the open batch. `history` is the
   * key's history in the index when the caller already looked it up (saves a second lookup).
   */
  private writeRecord(
    tx: WriteTxn,
    key: Buffer,
    keyStr: string,
    record: Omit<StoredRecord, 'key'>,
    history?: KeyHistory,
  ): IndexedRevision {
    const main = tx.writeRev;
    const sub = tx.changes++;
    const rk = revKey(main, sub);
    const value = encodeRecord({
      tombstone: record.tombstone,
      key,
      createRevision: record.createRevision,
      version: record.version,
      lease: record.lease,
      value: record.value,
    });
    const size = rk.length + value.length;
    // Every field set in one literal (as rebuild does): one object shape for all revisions.
    const entry: IndexedRevision = {
      main,
      sub,
      createRevision: record.createRevision,
      version: record.version,
      lease: record.lease,
      tombstone: record.tombstone,
      size,
    };
    this.recordBytes += size;
    if (history) history.push(entry);
    else this.index.append(keyStr, entry);
    this.pendingValues.set(entry, record.value);
    this.pendingOps.push({ type: 'put', key: rk, value });
    return entry;
  }

  private applyPut(tx: WriteTxn, req: PutRequest): PutResult {
    const k = keyString(req.key);
    const history = this.index.history(k);
    const existing = history ? liveAt(history, tx.viewRev) : undefined;
    if ((req.ignoreValue || req.ignoreLease) && !existing) throw new MvccError('key-not-found');
    const prev = existing && (req.prevKv || req.ignoreValue) ? this.readOne(k, existing) : undefined;
    const value = req.ignoreValue ? prev!.value : (req.value ?? EMPTY);
    const lease = req.ignoreLease ? existing!.lease : (req.lease ?? 0n);
    const prevLease = existing ? existing.lease : 0n;
    if (lease !== prevLease) this.leases.keyLeaseChanged(k, prevLease, lease);
    const entry = this.writeRecord(
      tx,
      req.key,
      k,
      {
        tombstone: false,
        createRevision: existing ? existing.createRevision : tx.writeRev,
        version: existing ? existing.version + 1 : 1,
        lease,
        value,
      },
      history,
    );
    this.pendingEvents.push({
      type: EventType.PUT,
      kv: {
        key: req.key,
        createRevision: entry.createRevision,
        modRevision: entry.main,
        version: entry.version,
        value,
        lease: entry.lease,
      },
    });
    return req.prevKv && prev ? { prevKv: prev } : {};
  }

  private applyDeleteRange(tx: WriteTxn, req: DeleteRangeRequest): DeleteRangeResult {
    const victims: [string, IndexedRevision][] = [];
    this.index.forEachLive(toKeyRange(req.key, req.rangeEnd), tx.viewRev, (key, entry) => {
      victims.push([key, entry]);
      return true;
    });
    const prevKvs = req.prevKv ? this.readKeyValues(victims, false) : [];
    for (const [key, victim] of victims) {
      if (victim.lease !== 0n) this.leases.keyLeaseChanged(key, victim.lease, 0n);
      const keyBuf = keyBuffer(key);
      const entry = this.writeRecord(tx, keyBuf, key, {
        tombstone: true,
        createRevision: 0,
        version: 0,
        lease: 0n,
        value: EMPTY,
      });
      this.pendingEvents.push({
        type: EventType.DELETE,
        kv: { key: keyBuf, createRevision: 0, modRevision: entry.main, version: 0, value: EMPTY, lease: 0n },
      });
    }
    return { deleted: victims.length, prevKvs };
  }

  /** Evaluates every compare, nested ones included, against the state before the txn. */
  private planTxn(req: TxnRequest, rev: number): TxnPlan {
    const succeeded = req.compare.every((c) => this.evaluate(c, rev));
    const ops = succeeded ? req.success : req.failure;
    const nested = new Map<number, TxnPlan>();
    ops.forEach((op, i) => {
      if ('txn' in op) nested.set(i, this.planTxn(op.txn, rev));
    });
    return { succeeded, ops, nested };
  }

  private evaluate(c: Compare, rev: number): boolean {
    const entries: [string, IndexedRevision][] = [];
    this.index.forEachLive(toKeyRange(c.key, c.rangeEnd), rev, (key, entry) => {
      entries.push([key, entry]);
      return true;
    });
    // A value cannot be compared on a missing key (grpc cannot tell missing from empty): always false.
    if (entries.length === 0) return c.target === CompareTarget.VALUE ? false : compareOne(c, undefined);
    if (c.target === CompareTarget.VALUE) {
      return this.readKeyValues(entries, false).every((kv) => compareOne(c, kv));
    }
    return entries.every(([key, e]) => compareOne(c, entryToKeyValue(key, e)));
  }

  private checkPuts(plan: TxnPlan): void {
    plan.ops.forEach((op, i) => {
      if ('put' in op) {
        const p = op.put;
        if ((p.ignoreValue || p.ignoreLease) && !this.index.get(keyString(p.key), this.currentRev)) {
          throw new MvccError('key-not-found');
        }
        const lease = p.lease ?? 0n;
        if (lease !== 0n && !this.leases.exists(lease)) throw new MvccError('lease-not-found');
      } else if ('txn' in op) this.checkPuts(plan.nested.get(i)!);
    });
  }

  private checkRanges(plan: TxnPlan): void {
    plan.ops.forEach((op, i) => {
      if ('range' in op) {
        const rev = op.range.revision ?? 0;
        if (rev === 0) return;
        if (rev > this.currentRev) throw new MvccError('future-revision');
        if (rev < this.compactRev) throw new MvccError('compacted');
      } else if ('txn' in op) this.checkRanges(plan.nested.get(i)!);
    });
  }

  private applyPlan(tx: WriteTxn, plan: TxnPlan): TxnResult {
    const responses: ResponseOp[] = plan.ops.map((op, i): ResponseOp => {
      if ('range' in op) return { range: this.rangeAt(op.range, tx.viewRev), revision: tx.viewRev };
      if ('put' in op) return { put: this.applyPut(tx, op.put), revision: tx.writeRev };
      if ('deleteRange' in op) {
        const deleteRange = this.applyDeleteRange(tx, op.deleteRange);
        return { deleteRange, revision: tx.viewRev };
      }
      return { txn: this.applyPlan(tx, plan.nested.get(i)!), revision: 0 };
    });
    return { succeeded: plan.succeeded, responses };
  }
}

const EMPTY = Buffer.alloc(0);
const KEY_BUCKET = Buffer.from('key');

/** A stored revision as the event that wrote it (a delete event carries only key and revision). */
function recordEvent(main: number, r: StoredRecord): MvccEvent {
  if (!r.tombstone) return { type: EventType.PUT, kv: recordToKeyValue(r, main) };
  return {
    type: EventType.DELETE,
    kv: { key: r.key, createRevision: 0, modRevision: main, version: 0, value: EMPTY, lease: 0n },
  };
}

/**
 * etcd's range_end: absent = one key; "\0" = every key from `key` on; otherwise [key, end).
 * A range_end that is present but empty also means "from key on": that is what etcd does
 * with one sent explicitly on the wire (Go clients never send it; others may).
 */
export function toKeyRange(key: Buffer, rangeEnd: Buffer | undefined): KeyRange {
  const start = keyString(key);
  if (rangeEnd === undefined) return { start, end: undefined };
  if (rangeEnd.length === 0 || (rangeEnd.length === 1 && rangeEnd[0] === 0)) return { start, end: null };
  return { start, end: keyString(rangeEnd) };
}

/** True when a txn only reads, in either branch (a nested txn counts as a write, as in etcd). */
export function isReadOnly(req: TxnRequest): boolean {
  return [...req.success, ...req.failure].every((op) => 'range' in op);
}

function entryToKeyValue(key: string, e: IndexedRevision): KeyValue {
  return {
    key: keyBuffer(key),
    createRevision: e.createRevision,
    modRevision: e.main,
    version: e.version,
    value: EMPTY,
    lease: e.lease,
  };
}

function compareOne(c: Compare, kv: KeyValue | undefined): boolean {
  let order: number;
  switch (c.target) {
    case CompareTarget.VALUE:
      order = Buffer.compare(kv?.value ?? EMPTY, c.value ?? EMPTY);
      break;
    case CompareTarget.VERSION:
      order = Math.sign((kv?.version ?? 0) - (c.version ?? 0));
      break;
    case CompareTarget.CREATE:
      order = Math.sign((kv?.createRevision ?? 0) - (c.createRevision ?? 0));
      break;
    case CompareTarget.MOD:
      order = Math.sign((kv?.modRevision ?? 0) - (c.modRevision ?? 0));
      break;
    case CompareTarget.LEASE: {
      const a = kv?.lease ?? 0n;
      const b = c.lease ?? 0n;
      order = a < b ? -1 : a > b ? 1 : 0;
      break;
    }
    default:
      return false;
  }
  switch (c.result) {
    case CompareResult.EQUAL:
      return order === 0;
    case CompareResult.NOT_EQUAL:
      return order !== 0;
    case CompareResult.GREATER:
      return order > 0;
    case CompareResult.LESS:
      return order < 0;
    default:
      return false;
  }
}

function truncate<T>(items: T[], limit: number): T[] {
  return limit > 0 && items.length > limit ? items.slice(0, limit) : items;
}

function sortEntries(entries: [string, IndexedRevision][], order: SortOrder, target: SortTarget): void {
  const by = (e: [string, IndexedRevision]): number | string => {
    switch (target) {
      case SortTarget.VERSION:
        return e[1].version;
      case SortTarget.CREATE:
        return e[1].createRevision;
      case SortTarget.MOD:
        return e[1].main;
      default:
        return e[0];
    }
  };
  const dir = order === SortOrder.DESCEND ? -1 : 1;
  entries.sort((a, b) => {
    const x = by(a);
    const y = by(b);
    return x < y ? -dir : x > y ? dir : 0;
  });
}

function sortKeyValues(kvs: KeyValue[], order: SortOrder, cmp: (a: KeyValue, b: KeyValue) => number): void {
  const dir = order === SortOrder.DESCEND ? -1 : 1;
  kvs.sort((a, b) => dir * cmp(a, b));
}
