import {
  CompactedError,
  ConfState,
  EMPTY_BYTES,
  Entry,
  EntryType,
  HardState,
  MemoryStorage,
  NONE,
  Snapshot,
  Storage,
  UnavailableError,
  bootstrapStorage,
  ConfChangeType,
  decodeConfState,
  decodeHardState,
  decodeSnapshotMetadata,
  encodeConfChange,
  encodeConfState,
  encodeHardState,
  encodeSnapshotMetadata,
  emptyConfState,
  entrySize,
  isEmptyHardState,
} from '../../raft/src';
import { Engine, EngineOp, metaKey, writeUint64BE } from '../../storage/src';

/**
 * On-disk layout of the Raft log, in the member's one RocksDB:
 *   'w' index(8, BE)        -> an entry: type(1) term(8, BE) data (cheaper than protobuf)
 *   'm' raft-hard-state     -> the hard state (term, vote, commit)
 *   'm' raft-snapshot       -> metadata of the latest snapshot (index, term, conf state)
 * The state machine is the MVCC store itself, so a snapshot here is only its metadata: the
 * point up to which the log may be dropped because the store has applied it.
 */
export const ENTRY_PREFIX = 0x77; // 'w'
const ENTRY_KEYSPACE_END = Buffer.from([ENTRY_PREFIX + 1]);
export const HARD_STATE_KEY = metaKey('raft-hard-state');
export const SNAPSHOT_KEY = metaKey('raft-snapshot');
/** The configuration as of the state machine's applied index (written with that index). */
export const CONF_STATE_KEY = metaKey('raft-conf-state');

export function entryKey(index: bigint): Buffer {
  const buf = Buffer.allocUnsafe(9);
  buf[0] = ENTRY_PREFIX;
  writeUint64BE(buf, index, 1);
  return buf;
}

export function encodeLogEntry(e: Entry): Buffer {
  const out = Buffer.allocUnsafe(9 + e.data.length);
  out[0] = e.type;
  writeUint64BE(out, e.term, 1);
  out.set(e.data, 9);
  return out;
}

export function decodeLogEntry(key: Buffer, value: Buffer): Entry {
  return {
    index: key.readBigUInt64BE(1),
    term: value.readBigUInt64BE(1),
    type: value[0] as EntryType,
    data: value.subarray(9),
  };
}

/** What one Ready asks to make durable. */
export interface PersistRequest {
  snapshot?: Snapshot;
  entries: readonly Entry[];
  hardState?: HardState;
}

/**
 * Applied entries the in-memory mirror keeps: enough for followers that are a little behind.
 * Older entries stay on disk until the next log truncation and are read from there.
 */
export const MIRRORED_APPLIED_ENTRIES = 1024;

/**
 * libs/raft's synchronous Storage over RocksDB: an in-memory mirror (MemoryStorage) of the log's
 * tail serves the node's reads, and every change is written through to the engine. The mirror
 * is updated only after the write is issued, so what the node reads is never ahead of what is
 * on disk. It keeps the unapplied entries and the last MIRRORED_APPLIED_ENTRIES applied ones:
 * the log on disk runs back to the last truncation (up to --snapshot-count entries), and
 * holding all of that on the heap made every garbage collection walk it.
 */
export class RaftLogStore implements Storage {
  /** The log's tail; its first index may be past the log's (see `trimMirror`). */
  private readonly mem = new MemoryStorage();
  /** The recorded configuration at the applied index, newer than the snapshot's. */
  private appliedConf: ConfState | undefined;

  private constructor(private readonly engine: Engine) {}

  /** Loads the snapshot metadata, hard state and retained entries from the engine. */
  static async open(engine: Engine): Promise<RaftLogStore> {
    const store = new RaftLogStore(engine);
    const [snapRaw, hsRaw] = engine.getMany([SNAPSHOT_KEY, HARD_STATE_KEY]);
    let snapIndex = 0n;
    if (snapRaw) {
      const metadata = decodeSnapshotMetadata(snapRaw);
      store.mem.applySnapshot({ data: EMPTY_BYTES, metadata });
      snapIndex = metadata.index;
    }
    if (hsRaw) store.mem.setHardState(decodeHardState(hsRaw));
    const confRaw = engine.get(CONF_STATE_KEY);
    if (confRaw) store.appliedConf = decodeConfState(confRaw);
    // A snapshot is committed by definition, even if the hard state saying so was not written.
    const hs = store.mem.hardStateSnapshot();
    if (snapIndex > hs.commit) store.mem.setHardState({ ...hs, commit: snapIndex });
    // Entries at or below the snapshot are leftovers of an interrupted truncation: skip them.
    const batch: Entry[] = [];
    let next = snapIndex + 1n;
    for await (const chunk of engine.scan(entryKey(next), ENTRY_KEYSPACE_END)) {
      for (const [key, value] of chunk) {
        const e = decodeLogEntry(key, value);
        if (e.index !== next) throw new Error(`raft log has a gap: expected entry ${next}, found ${e.index}`);
        batch.push(e);
        next++;
      }
      store.mem.append(batch);
      batch.length = 0;
    }
    return store;
  }

  /** True when this member has never been bootstrapped nor received a snapshot. */
  isEmpty(): boolean {
    return (
      this.mem.snapshot().metadata.index === 0n &&
      this.mem.lastIndex() === 0n &&
      isEmptyHardState(this.mem.hardStateSnapshot())
    );
  }

  /**
   * Makes this member a founder of a new cluster with these voters (durably): a snapshot at
   * `index` (1 for a new member, as bootstrapStorage does; the applied index of a store that
   * predates the Raft log), term 1, so the first election moves to term 2 as etcd's does.
   */
  async bootstrap(voters: bigint[], index = 1n, learners: bigint[] = []): Promise<void> {
    if (!this.isEmpty()) throw new Error('raft log is not empty: cannot bootstrap');
    if (index <= 1n) {
      bootstrapStorage(this.mem, voters, learners);
    } else {
      const confState = { ...emptyConfState(), voters: [...voters], learners: [...learners] };
      this.mem.applySnapshot({ data: EMPTY_BYTES, metadata: { index, term: 1n, confState } });
      this.mem.setHardState({ term: 1n, vote: NONE, commit: index });
    }
    await this.engine.writeSynced([
      { type: 'put', key: SNAPSHOT_KEY, value: buf(encodeSnapshotMetadata(this.mem.snapshot().metadata)) },
      { type: 'put', key: HARD_STATE_KEY, value: buf(encodeHardState(this.mem.hardStateSnapshot())) },
    ]);
  }

  // ---- Storage (read by the Raft node) ----

  initialState(): { hardState: HardState; confState: ConfState } {
    const state = this.mem.initialState();
    // Conf changes up to the applied index are not replayed: Raft starts from their result.
    return this.appliedConf ? { ...state, confState: this.appliedConf } : state;
  }

  /** The write recording `confState` as the configuration at the index applied with it. */
  static confStateOp(confState: ConfState): EngineOp {
    return { type: 'put', key: CONF_STATE_KEY, value: buf(encodeConfState(confState)) };
  }
  entries(lo: bigint, hi: bigint, maxSize: number): Entry[] {
    const mirrored = this.mem.firstIndex();
    if (lo >= mirrored) return this.mem.entries(lo, hi, maxSize);
    if (lo < this.firstIndex()) throw new CompactedError();
    if (hi > this.lastIndex() + 1n) throw new UnavailableError();
    const fromDisk = this.readEntries(lo, hi < mirrored ? hi : mirrored, maxSize);
    const last = fromDisk.length > 0 ? fromDisk[fromDisk.length - 1].index : lo - 1n;
    if (last + 1n < mirrored || hi <= mirrored) return fromDisk;
    // The size limit was not reached below the mirror: go on in it.
    let size = 0;
    for (const e of fromDisk) size += entrySize(e);
    for (const e of this.mem.entries(mirrored, hi, Number.MAX_SAFE_INTEGER)) {
      size += entrySize(e);
      if (size > maxSize) break;
      fromDisk.push(e);
    }
    return fromDisk;
  }
  term(i: bigint): bigint {
    if (i >= this.mem.firstIndex() - 1n) return this.mem.term(i);
    const snap = this.mem.snapshot().metadata;
    if (i === snap.index) return snap.term;
    if (i < snap.index) throw new CompactedError();
    return this.readEntries(i, i + 1n, 0)[0].term;
  }
  lastIndex(): bigint {
    return this.mem.lastIndex();
  }
  firstIndex(): bigint {
    return this.mem.snapshot().metadata.index + 1n;
  }
  snapshot(): Snapshot {
    return this.mem.snapshot();
  }
  hardState(): HardState {
    return this.mem.hardStateSnapshot();
  }

  // ---- writes ----

  /**
   * Writes one Ready's snapshot, entries and hard state as one atomic engine write (not
   * synced: the caller awaits `engine.sync()` when the Ready says mustSync).
   */
  persist(req: PersistRequest): void {
    const ops: EngineOp[] = [];
    const snapIndex = req.snapshot?.metadata.index;
    if (req.snapshot) {
      ops.push({ type: 'put', key: SNAPSHOT_KEY, value: buf(encodeSnapshotMetadata(req.snapshot.metadata)) });
    }
    for (const e of req.entries) ops.push({ type: 'put', key: entryKey(e.index), value: encodeLogEntry(e) });
    // Whatever lies past the new end of the log (a conflicting suffix, or everything after a
    // snapshot) is deleted in the same batch, so the log on disk is always the log in memory.
    if (req.entries.length > 0 || req.snapshot) {
      const newLast = req.entries.length > 0 ? req.entries[req.entries.length - 1].index : snapIndex!;
      const oldLast = this.mem.lastIndex();
      for (let i = newLast + 1n; i <= oldLast; i++) ops.push({ type: 'del', key: entryKey(i) });
    }
    if (req.hardState)
      ops.push({ type: 'put', key: HARD_STATE_KEY, value: buf(encodeHardState(req.hardState)) });
    if (ops.length === 0) return;
    this.engine.write(ops);
    if (req.snapshot) {
      // Entries the snapshot covers go after the record is written; if this range delete is
      // lost in a crash, open() skips entries at or below the snapshot.
      this.engine.deleteRange(entryKey(0n), entryKey(snapIndex! + 1n));
      this.mem.applySnapshot(req.snapshot);
      const hs = this.mem.hardStateSnapshot();
      if (snapIndex! > hs.commit) this.mem.setHardState({ ...hs, commit: snapIndex! });
    }
    if (req.entries.length > 0) this.mem.append(req.entries);
    if (req.hardState) this.mem.setHardState(req.hardState);
  }

  /**
   * --force-new-cluster: replaces the entries past the commit index (never acknowledged) with
   * committed conf changes removing `others`, durably, so this member restarts as a cluster of
   * one with everything that was committed (nothing to do when it is one already).
   */
  async forceNewCluster(others: bigint[]): Promise<void> {
    const hs = this.mem.hardStateSnapshot();
    let index = hs.commit;
    const entries: Entry[] = others.map((nodeId) => ({
      term: hs.term,
      index: ++index,
      type: EntryType.ConfChange,
      data: encodeConfChange({ type: ConfChangeType.RemoveNode, nodeId, context: EMPTY_BYTES, id: 0n }),
    }));
    if (entries.length === 0) return;
    // Written over the uncommitted suffix; persist deletes whatever lies past them.
    this.persist({ entries, hardState: { ...hs, commit: index } });
    await this.engine.sync();
  }

  /** Convenience for tests and callers without a Ready: append entries (truncating a conflicting suffix). */
  append(entries: readonly Entry[]): void {
    this.persist({ entries });
  }

  setHardState(hs: HardState): void {
    this.persist({ entries: [], hardState: hs });
  }

  applySnapshot(snapshot: Snapshot): void {
    this.persist({ snapshot, entries: [] });
  }

  /**
   * Drops the log up to and including `index`, which the state machine has applied: records a
   * snapshot (metadata only: the MVCC store is the data) at `index`, then range-deletes the
   * entries it covers. The record is written first, so a crash in between leaves entries that
   * open() skips.
   */
  compact(index: bigint, confState?: ConfState): void {
    if (index <= this.mem.snapshot().metadata.index) return;
    const metadata = {
      index,
      term: this.term(index),
      confState: confState ?? this.mem.snapshot().metadata.confState,
    };
    this.engine.write([{ type: 'put', key: SNAPSHOT_KEY, value: buf(encodeSnapshotMetadata(metadata)) }]);
    this.mem.recordSnapshot(metadata);
    if (index >= this.mem.firstIndex()) this.mem.compact(index);
    this.engine.deleteRange(entryKey(0n), entryKey(index + 1n));
  }

  /**
   * Drops from the mirror the entries more than MIRRORED_APPLIED_ENTRIES behind `applied` (they
   * stay on disk). Done in steps of that many, so the mirror is not copied at every apply.
   */
  trimMirror(applied: bigint): void {
    const keepFrom = applied - BigInt(MIRRORED_APPLIED_ENTRIES) + 1n;
    if (keepFrom - this.mem.firstIndex() < BigInt(MIRRORED_APPLIED_ENTRIES)) return;
    this.mem.compact(keepFrom - 1n);
  }

  /** Entries [lo, hi) from disk: at least one, then while their total size stays within maxSize. */
  private readEntries(lo: bigint, hi: bigint, maxSize: number): Entry[] {
    const out: Entry[] = [];
    let size = 0;
    for (let from = lo; from < hi;) {
      const to = hi - from > 64n ? from + 64n : hi;
      const keys: Buffer[] = [];
      for (let i = from; i < to; i++) keys.push(entryKey(i));
      const values = this.engine.getMany(keys);
      for (let k = 0; k < values.length; k++) {
        const value = values[k];
        if (!value) throw new Error(`raft log entry ${from + BigInt(k)} is missing on disk`);
        const e = decodeLogEntry(keys[k], value);
        size += entrySize(e);
        if (out.length > 0 && size > maxSize) return out;
        out.push(e);
      }
      from = to;
    }
    return out;
  }
}

function buf(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}
