import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lessor } from '../../lease/src';
import { Engine, EventType, MvccStore } from '../../storage/src';
import { applyLeaseGrant, applyLeaseRevoke } from './lease-apply';

const b = (s: string) => Buffer.from(s);

describe('applying lease requests', () => {
  let dir: string;
  let engine: Engine;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cairn-lease-apply-'));
    engine = await Engine.open(dir);
  });
  afterEach(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('revokes by deleting every attached key in one revision, as delete events of that revision', async () => {
    const store = await MvccStore.open(engine);
    const lessor = await Lessor.load(engine, store, { minTtl: 2 });
    expect(applyLeaseGrant(lessor, store, { ID: '-9', TTL: '30' }).response).toMatchObject({
      ID: '-9',
      TTL: '30',
    });
    for (const k of ['c', 'a', 'b']) store.put({ key: b(k), value: b('v'), lease: -9n });
    store.put({ key: b('z'), value: b('v') });
    store.flush(lessor.takeOps());

    const before = store.revision;
    expect(applyLeaseRevoke(lessor, store, { ID: '-9' }).response).toEqual({
      header: { revision: before + 1 },
    });
    const { events } = store.flush(lessor.takeOps());
    expect(events.map((e) => [e.type, e.kv.key.toString(), e.kv.modRevision])).toEqual([
      [EventType.DELETE, 'a', before + 1],
      [EventType.DELETE, 'b', before + 1],
      [EventType.DELETE, 'c', before + 1],
    ]);
    expect(store.range({ key: b('a'), rangeEnd: b('{') }).result.kvs.map((kv) => kv.key.toString())).toEqual([
      'z',
    ]);

    // A lease without keys goes without a new revision; an unknown one is etcd's not-found.
    applyLeaseGrant(lessor, store, { ID: '5', TTL: '30' });
    expect(applyLeaseRevoke(lessor, store, { ID: '5' }).response).toEqual({
      header: { revision: before + 1 },
    });
    expect(applyLeaseRevoke(lessor, store, { ID: '5' }).error).toMatchObject({
      code: 5,
      message: 'etcdserver: requested lease not found',
    });
  });
});
