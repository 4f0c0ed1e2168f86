import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, MvccStore } from '../../storage/src';
import { AutoCompactor } from './auto-compactor';
import { silentLogger } from './logger';

describe('AutoCompactor', () => {
  let dir: string;
  let engine: Engine;
  let store: MvccStore;
  const compactor: AutoCompactor[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cairn-autocompact-'));
    engine = await Engine.open(dir);
    store = await MvccStore.open(engine);
  });
  afterEach(async () => {
    compactor.forEach((c) => c.stop());
    await store.idle();
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const write = (n: number) => {
    for (let i = 0; i < n; i++) store.put({ key: Buffer.from(`k${i % 3}`), value: Buffer.from(String(i)) });
    store.flush();
  };
  const compactVia = (rev: number) => {
    const { done } = store.compact(rev);
    store.flush();
    return done;
  };

  it('revision mode keeps the last N revisions', async () => {
    const c = new AutoCompactor({ mode: 'revision', retentionRevisions: 5 }, store, compactVia, silentLogger);
    compactor.push(c);
    write(20); // revisions 2..21
    expect(await c.tick()).toBe(16);
    expect(store.compactedRevision).toBe(16);
    expect(await c.tick()).toBeUndefined(); // nothing new to compact
    write(3);
    expect(await c.tick()).toBe(19);
  });

  it('periodic mode compacts to the revision seen one retention window ago', async () => {
    let now = 0;
    const c = new AutoCompactor(
      { mode: 'periodic', retentionMs: 60_000 },
      store,
      compactVia,
      silentLogger,
      () => now,
    );
    compactor.push(c);
    write(4); // at revision 5
    expect(await c.tick()).toBeUndefined(); // first sample, nothing old enough
    now = 30_000;
    write(4); // at revision 9
    expect(await c.tick()).toBeUndefined();
    now = 60_000;
    write(4);
    expect(await c.tick()).toBe(5); // the sample taken at t=0
    now = 90_000;
    expect(await c.tick()).toBe(9);
    expect(store.compactedRevision).toBe(9);
  });

  it('reports a failed compaction and keeps going', async () => {
    const c = new AutoCompactor(
      { mode: 'revision', retentionRevisions: 1 },
      store,
      () => Promise.reject(new Error('boom')),
      silentLogger,
    );
    compactor.push(c);
    write(5);
    expect(await c.tick()).toBeUndefined();
    expect(store.compactedRevision).toBe(-1);
  });
});
