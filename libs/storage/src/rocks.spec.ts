import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RocksLevel } from '@nxtedition/rocksdb';
import { Engine } from './rocks';

describe('Engine', () => {
  let dir: string;
  let engine: Engine;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cairn-engine-'));
    engine = await Engine.open(dir);
  });
  afterEach(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const key = (i: number) => Buffer.from(`k${String(i).padStart(6, '0')}`);

  it('applies puts and deletes atomically and reads them back', () => {
    engine.write([
      { type: 'put', key: key(1), value: Buffer.from('a') },
      { type: 'put', key: key(2), value: Buffer.from('b') },
    ]);
    engine.write([{ type: 'del', key: key(1) }]);
    expect(engine.getMany([key(1), key(2), key(3)])).toEqual([undefined, Buffer.from('b'), undefined]);
  });

  it('does not hold on to what it wrote', () => {
    // Each write used to stay registered on the database with a copy of its ops.
    const value = Buffer.alloc(64 * 1024, 7);
    const before = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 2000; i++)
      engine.write([{ type: 'put', key: key(i % 10), value: Buffer.from(value) }]);
    global.gc?.();
    const after = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    // 2000 x 64 KiB = 125 MiB written; far less may stay reachable.
    expect(after - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('deletes a key range with one call and survives a sync', async () => {
    for (let i = 0; i < 100; i++) engine.write([{ type: 'put', key: key(i), value: Buffer.from('v') }]);
    engine.deleteRange(key(10), key(90));
    await engine.sync();
    const present = engine.getMany([key(9), key(10), key(89), key(90)]).map((v) => v !== undefined);
    expect(present).toEqual([true, false, false, true]);
  });

  it('names the data directory when another process holds it', async () => {
    await expect(Engine.open(dir)).rejects.toThrow(`cannot open the database in ${dir}: it is in use`);
  });

  it('replays a WAL written compressed (by earlier versions) on open', async () => {
    await engine.close();
    const other = mkdtempSync(join(tmpdir(), 'cairn-engine-'));
    try {
      // Earlier versions left the binding's zstd WAL compression on; what they wrote is only in
      // the WAL when the member stopped, and must come back.
      const old = new RocksLevel(other, { keyEncoding: 'buffer', valueEncoding: 'buffer' } as any);
      await old.open({ createIfMissing: true, walCompression: true } as any);
      await (old as any).batch([{ type: 'put', key: key(1), value: Buffer.alloc(4096, 'x') }], {
        sync: true,
      });
      await old.close();
      const reopened = await Engine.open(other);
      try {
        expect(reopened.get(key(1))).toEqual(Buffer.alloc(4096, 'x'));
      } finally {
        await reopened.close();
      }
    } finally {
      rmSync(other, { recursive: true, force: true });
      engine = await Engine.open(dir);
    }
  });
});
