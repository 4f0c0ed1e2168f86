import { RocksLevel } from '@nxtedition/rocksdb';
import { Worker } from 'node:worker_threads';

/** One write to the engine: a put or a delete of a raw key. */
export type EngineOp = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };

/**
 * The RocksDB engine: the only place in Cairn that touches @nxtedition/rocksdb.
 *
 * Unsynced writes and point reads are synchronous: they hit the memtable, the OS page cache
 * and the block cache, and are bounded by the caller's batch size. Synced writes (the ones
 * that wait for fsync) run on a worker thread that shares the database handle, so the event
 * loop keeps serving reads while the disk flushes.
 */
export class Engine {
  private syncWorker: SyncWorker | undefined;

  private constructor(
    readonly path: string,
    private readonly db: RocksLevel,
  ) {}

  static async open(path: string): Promise<Engine> {
    const db = new RocksLevel(path, { keyEncoding: 'buffer', valueEncoding: 'buffer' } as any);
    await db.open({ createIfMissing: true } as any);
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

  /** Applies ops atomically without waiting for fsync (still written to the WAL, in order). */
  write(ops: EngineOp[]): void {
    const batch = (this.db as any).batch();
    for (const op of ops) {
      if (op.type === 'put') batch.put(op.key, op.value);
      else batch.del(op.key);
    }
    batch._writeSync({});
    batch._closeSync();
  }

  /** Applies ops atomically and resolves once they are on stable storage. */
  writeSynced(ops: EngineOp[]): Promise<void> {
    this.syncWorker ??= new SyncWorker((this.db as any).handle);
    return this.syncWorker.write(ops);
  }

  /** Iterates [gte, lt) in key order, in chunks so a long scan never holds the event loop. */
  async *scan(gte: Buffer, lt: Buffer, chunk = 1024): AsyncGenerator<[Buffer, Buffer][]> {
    const it = this.db.iterator({ gte, lt, keyEncoding: 'buffer', valueEncoding: 'buffer' } as any);
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
const SYNC_WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { RocksLevel } = require(workerData.module);
const db = new RocksLevel(workerData.handle);
const opened = db.open();
parentPort.on('message', async ({ id, ops }) => {
  try {
    await opened;
    const batch = db.batch();
    for (const op of ops) {
      if (op.type === 'put') batch.put(Buffer.from(op.key.buffer, op.key.byteOffset, op.key.byteLength), Buffer.from(op.value.buffer, op.value.byteOffset, op.value.byteLength));
      else batch.del(Buffer.from(op.key.buffer, op.key.byteOffset, op.key.byteLength));
    }
    await batch.write({ sync: true });
    parentPort.postMessage({ id });
  } catch (err) {
    parentPort.postMessage({ id, error: String(err && err.stack || err) });
  }
});
`;

/** A worker thread performing synced batch writes on a shared database handle, in order. */
class SyncWorker {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private failure: Error | undefined;

  constructor(handle: unknown) {
    this.worker = new Worker(SYNC_WORKER_SOURCE, {
      eval: true,
      workerData: { handle, module: require.resolve('@nxtedition/rocksdb') },
    });
    this.worker.on('message', (msg: { id: number; error?: string }) => {
      const waiter = this.pending.get(msg.id);
      if (!waiter) return;
      this.pending.delete(msg.id);
      if (msg.error) waiter.reject(new Error(`synced write failed: ${msg.error}`));
      else waiter.resolve();
    });
    this.worker.on('error', (err) => this.failAll(err));
    this.worker.on('exit', () => this.failAll(new Error('sync worker exited')));
  }

  write(ops: EngineOp[]): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, ops });
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
