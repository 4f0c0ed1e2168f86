import { RocksLevel } from '@nxtedition/rocksdb';
import { Worker } from 'node:worker_threads';
import { KeyTable } from './key-table';

const NO_OPTIONS = {};

/** One write to the engine: a put or a delete of a raw key. */
export type EngineOp = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };

/**
 * The RocksDB engine: the only place in Cairn that touches @nxtedition/rocksdb.
 *
 * Writes and point reads are synchronous: they hit the memtable, the OS page cache and the
 * block cache, and are bounded by the caller's batch size. Durability is separate: `sync()`
 * makes everything written so far survive a power loss, by a synced write on a worker thread
 * that shares the database handle. RocksDB's WAL is one ordered stream and a synced write
 * fsyncs every WAL file not yet synced, so it covers all earlier writes too; the event loop
 * keeps serving while the disk flushes, and nothing is copied to the worker.
 */
export class Engine {
  private syncWorker: SyncWorker | undefined;

  private constructor(
    readonly path: string,
    private readonly db: RocksLevel,
  ) {}

  static async open(path: string): Promise<Engine> {
    const db = new RocksLevel(path, { keyEncoding: 'buffer', valueEncoding: 'buffer' } as any);
    try {
      // No WAL compression: zstd over every write batch cost the event loop ~2% of a put's CPU, and
      // etcd's own WAL is not compressed either. WAL files written compressed still replay.
      await db.open({ createIfMissing: true, walCompression: false } as any);
    } catch (err) {
      // abstract-level says only "Database is not open"; RocksDB's reason is in the cause.
      const reason = String((err as Error & { cause?: Error }).cause?.message ?? (err as Error).message);
      const why = /lock/i.test(reason) ? 'it is in use by another process' : reason;
      throw new Error(`cannot open the database in ${path}: ${why}`, { cause: err });
    }
    return new Engine(path, db);
  }

  /** Reads several keys at once; a missing key yields undefined. */
  getMany(keys: Buffer[]): (Buffer | undefined)[] {
    if (keys.length === 0) return [];
    const values = (this.db as any)._getManySync(keys, { valueEncoding: 'buffer' }) as (Buffer | null)[];
    return values.map((v) => (v == null ? undefined : v));
  }

  get(key: Buffer): Buffer | undefined {
    return this.getMany([key])[0];
  }

  /** Applies ops atomically, appended to the WAL in order; durable after the next `sync()`. */
  write(ops: EngineOp[]): void {
    // The native batch directly: abstract-level's wrapper would copy every op into a list
    // and keep the batch registered on the database until closed through its own API.
    const db = this.db as any;
    const batch = db._chainedBatch();
    try {
      for (const op of ops) {
        if (op.type === 'put') batch._put(op.key, op.value, NO_OPTIONS);
        else batch._del(op.key, NO_OPTIONS);
      }
      batch._writeSync(NO_OPTIONS);
    } finally {
      batch._closeSync();
      db.detachResource(batch);
    }
  }

  /** Resolves once every write made before the call is on stable storage. */
  sync(): Promise<void> {
    this.syncWorker ??= new SyncWorker((this.db as any).handle);
    return this.syncWorker.sync();
  }

  /** Applies ops atomically and resolves once they are on stable storage. */
  writeSynced(ops: EngineOp[]): Promise<void> {
    this.write(ops);
    return this.sync();
  }

  /** Removes every key in [gte, lt) with one range tombstone. */
  deleteRange(gte: Buffer, lt: Buffer): void {
    // The binding runs an unlimited clear as a single native DeleteRange, synchronously.
    (this.db as any)._clear({ gte, lt, limit: -1 }, () => undefined);
  }

  /**
   * Iterates [gte, lt) in key order (the whole keyspace without bounds), in chunks so a long scan
   * never holds the event loop. One RocksDB iterator: it reads one consistent point-in-time view,
   * whatever is written meanwhile.
   */
  async *scan(gte?: Buffer, lt?: Buffer, chunk = 1024): AsyncGenerator<[Buffer, Buffer][]> {
    const range = { ...(gte ? { gte } : {}), ...(lt ? { lt } : {}) };
    const it = this.db.iterator({ ...range, keyEncoding: 'buffer', valueEncoding: 'buffer' } as any);
    try {
      for (;;) {
        const entries = (await it.nextv(chunk)) as [Buffer, Buffer][];
        if (entries.length === 0) return;
        yield entries;
      }
    } finally {
      await it.close();
    }
  }

  /** Approximate on-disk size in bytes (SST files plus memtables). */
  approximateSize(): number {
    const sst = Number(this.db.getProperty('rocksdb.total-sst-files-size')) || 0;
    const mem = Number(this.db.getProperty('rocksdb.cur-size-all-mem-tables')) || 0;
    return sst + mem;
  }

  async close(): Promise<void> {
    await this.syncWorker?.close();
    this.syncWorker = undefined;
    await this.db.close();
  }
}

// The worker is plain JavaScript so it runs the same from ts sources (tests) and from dist.
// Each request is a synced write of one fixed marker key: the fsync it forces covers the WAL.
// It uses the native batch directly, as Engine.write does: abstract-level's batch() adds op
// checks, a promise and a tick to every sync. Blocking this thread during the fsync is its job.
// It answers with the request's id, or with { id, error }.
const SYNC_WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { RocksLevel } = require(workerData.module);
const db = new RocksLevel(workerData.handle);
const opened = db.open();
const marker = Buffer.from([0x6d, 0x00]);
const empty = Buffer.alloc(0);
const options = {};
const synced = { sync: true };
parentPort.on('message', async (id) => {
  try {
    if (db.status !== 'open') await opened;
    const batch = db._chainedBatch();
    try {
      batch._put(marker, empty, options);
      batch._writeSync(synced);
    } finally {
      batch._closeSync();
      db.detachResource(batch);
    }
    parentPort.postMessage(id);
  } catch (err) {
    parentPort.postMessage({ id, error: String((err && err.stack) || err) });
  }
});
`;

/** A worker thread that forces WAL syncs on a shared database handle, in order. */
class SyncWorker {
  private readonly worker: Worker;
  private nextId = 1;
  // A KeyTable, not a Map: a sync per Raft round comes and goes (see KeyTable).
  private readonly pending = KeyTable.ofNumbers<{ resolve: () => void; reject: (e: Error) => void }>();
  private failure: Error | undefined;

  constructor(handle: unknown) {
    this.worker = new Worker(SYNC_WORKER_SOURCE, {
      eval: true,
      workerData: { handle, module: require.resolve('@nxtedition/rocksdb') },
    });
    this.worker.on('message', (msg: number | { id: number; error: string }) => {
      const id = typeof msg === 'number' ? msg : msg.id;
      const waiter = this.pending.get(id);
      if (!waiter) return;
      this.pending.delete(id);
      if (typeof msg === 'number') waiter.resolve();
      else waiter.reject(new Error(`sync failed: ${msg.error}`));
    });
    this.worker.on('error', (err) => this.failAll(err));
    this.worker.on('exit', () => this.failAll(new Error('sync worker exited')));
  }

  sync(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage(id);
    });
  }

  private failAll(err: Error): void {
    this.failure ??= err;
    for (const waiter of this.pending.values()) waiter.reject(err);
    this.pending.clear();
  }

  async close(): Promise<void> {
    this.failure ??= new Error('engine closed');
    await this.worker.terminate();
  }
}
