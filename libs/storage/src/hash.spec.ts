import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32c } from './crc32c';
import { MvccError } from './errors';
import { MvccStore } from './mvcc';
import { Engine } from './rocks';

const b = (s: string) => Buffer.from(s);

describe('crc32c', () => {
  it('is CRC-32C (Castagnoli)', () => {
    expect(crc32c(b('123456789'))).toBe(0xe3069283);
    expect(crc32c(Buffer.alloc(0))).toBe(0);
  });
});

describe('MvccStore hashes', () => {
  const dirs: string[] = [];
  const open = async (dir = mkdtempSync(join(tmpdir(), 'cairn-hash-'))) => {
    dirs.push(dir);
    const engine = await Engine.open(dir);
    return { dir, engine, store: await MvccStore.open(engine) };
  };
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  /** The same history, applied in two batches as an apply loop would. */
  const history = (store: MvccStore) => {
    for (let i = 0; i < 20; i++) store.put({ key: b(`k${i % 7}`), value: b(`v${i}`) });
    store.flush();
    store.deleteRange({ key: b('k3') });
    store.txn({
      compare: [],
      success: [{ put: { key: b('t'), value: b('x') } }, { deleteRange: { key: b('k4') } }],
      failure: [],
    });
    store.flush();
  };

  it('hashes an empty store as etcd does (only the bucket name)', async () => {
    const { engine, store } = await open();
    const h = await store.hashKV(0);
    expect(h).toEqual({ hash: 1084519789, revision: 1, compactRevision: -1 });
    await engine.close();
  });

  it('is equal for the same history, across restarts, and at past revisions after later writes', async () => {
    const a = await open();
    const c = await open();
    history(a.store);
    history(c.store);
    const ha = await a.store.hashKV(0);
    expect(ha.revision).toBe(23);
    expect(await c.store.hashKV(0)).toEqual(ha);
    expect((await a.store.hash()).hash).toBe((await c.store.hash()).hash);
    const at10 = await a.store.hashKV(10);
    expect(at10.hash).not.toBe(ha.hash);

    await a.engine.close();
    const again = await open(a.dir);
    expect(await again.store.hashKV(0)).toEqual(ha);
    expect((await again.store.hash()).hash).toBe((await c.store.hash()).hash);

    again.store.put({ key: b('new'), value: b('1') });
    again.store.flush();
    expect((await again.store.hashKV(0)).hash).not.toBe(ha.hash);
    expect((await again.store.hashKV(23)).hash).toBe(ha.hash);
    expect((await again.store.hashKV(10)).hash).toBe(at10.hash);
    await again.engine.close();
    await c.engine.close();
  });

  it('hashes what compaction keeps the same on every store, and refuses compacted or future revisions', async () => {
    const a = await open();
    const c = await open();
    history(a.store);
    history(c.store);
    a.store.compact(15);
    a.store.flush();
    c.store.compact(15);
    c.store.flush();
    // One store hashes while its compaction runs, the other after it finished.
    const during = await a.store.hashKV(0);
    await c.store.idle();
    expect(await c.store.hashKV(0)).toEqual(during);
    expect(during.compactRevision).toBe(15);
    expect((await a.store.hashKV(16)).revision).toBe(23);

    await expect(a.store.hashKV(15)).rejects.toEqual(new MvccError('compacted'));
    await expect(a.store.hashKV(3)).rejects.toEqual(new MvccError('compacted'));
    await expect(a.store.hashKV(24)).rejects.toEqual(new MvccError('future-revision'));
    await a.engine.close();
    await c.engine.close();
  });

  it('counts the bytes of revision records in use, and frees them on compaction', async () => {
    const { dir, engine, store } = await open();
    expect(store.sizeInUse).toBe(0);
    history(store);
    const used = store.sizeInUse;
    expect(used).toBeGreaterThan(20 * 10);
    await engine.close();
    const again = await open(dir);
    expect(again.store.sizeInUse).toBe(used);
    again.store.deleteRange({ key: b('\0'), rangeEnd: b('\0') });
    again.store.compact(again.store.revision);
    again.store.flush();
    await again.store.idle();
    expect(again.store.sizeInUse).toBe(0);
    await again.engine.close();
  });
});
