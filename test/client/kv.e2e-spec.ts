// The SDK's KV, txn, namespacing, maintenance and typed errors.
// Runs against both targets of test/support/targets.ts: 3-member etcd 3.4 and Cairn clusters.
import {
  CairnClient,
  CompactedError,
  FutureRevisionError,
  InvalidRequestError,
  cmp,
  op,
} from '../../libs/client/src';
import { TARGET_KINDS, Target, startTarget } from '../support/targets';

jest.setTimeout(60_000);

describe.each(TARGET_KINDS)('client KV against %s', (kind) => {
  let target: Target;
  let client: CairnClient;

  beforeAll(async () => {
    target = await startTarget(kind);
    client = new CairnClient({ endpoints: target.endpoints });
  });
  afterAll(async () => {
    client?.close();
    await target?.stop();
  });

  it('puts and gets strings and buffers, with prevKv', async () => {
    const first = await client.kv.put('kv/a', 'one');
    const second = await client.kv.put('kv/a', Buffer.from([0, 1, 2]), { prevKv: true });
    expect(second.prevKv?.valueString).toBe('one');
    expect(second.header.revision).toBe(first.header.revision + 1);
    const kv = await client.kv.get('kv/a');
    expect(kv?.value).toEqual(Buffer.from([0, 1, 2]));
    expect(kv?.keyString).toBe('kv/a');
    expect(kv?.version).toBe(2);
    expect(kv?.createRevision).toBe(first.header.revision);
    expect(kv?.modRevision).toBe(second.header.revision);
    expect(await client.kv.get('kv/missing')).toBeUndefined();
    expect(typeof second.header.clusterId).toBe('bigint');
  });

  it('reads prefixes and ranges with limit, sort, keysOnly, countOnly, revision and revision bounds', async () => {
    const base = (await client.kv.put('r/1', 'a')).header.revision;
    await client.kv.put('r/2', 'b');
    await client.kv.put('r/3', 'c');
    await client.kv.put('r/1', 'a2');
    const all = await client.kv.prefix('r/');
    expect(all.kvs.map((k) => k.keyString)).toEqual(['r/1', 'r/2', 'r/3']);
    const limited = await client.kv.prefix('r/', { limit: 2, sort: { target: 'KEY', order: 'DESCEND' } });
    expect(limited.kvs.map((k) => k.keyString)).toEqual(['r/3', 'r/2']);
    expect(limited.more).toBe(true);
    expect(limited.count).toBe(3);
    const range = await client.kv.range('r/1', { rangeEnd: 'r/3' });
    expect(range.kvs.map((k) => k.keyString)).toEqual(['r/1', 'r/2']);
    const keysOnly = await client.kv.prefix('r/', { keysOnly: true });
    expect(keysOnly.kvs.every((k) => k.value.length === 0)).toBe(true);
    const countOnly = await client.kv.prefix('r/', { countOnly: true });
    expect(countOnly.kvs).toEqual([]);
    expect(countOnly.count).toBe(3);
    const old = await client.kv.get('r/1', { revision: base });
    expect(old?.valueString).toBe('a');
    const modded = await client.kv.prefix('r/', { minModRevision: base + 1, serializable: true });
    expect(modded.kvs.map((k) => k.keyString)).toEqual(['r/1', 'r/2', 'r/3']);
    const notModded = await client.kv.prefix('r/', { maxModRevision: base + 2 });
    expect(notModded.kvs.map((k) => k.keyString)).toEqual(['r/2', 'r/3']);
    const created = await client.kv.prefix('r/', { maxCreateRevision: base });
    expect(created.kvs.map((k) => k.keyString)).toEqual(['r/1']);
    const byCreate = await client.kv.prefix('r/', { sort: { target: 'MOD', order: 'ASCEND' } });
    expect(byCreate.kvs.map((k) => k.keyString)).toEqual(['r/2', 'r/3', 'r/1']);
  });

  it('deletes single keys and prefixes with prevKv', async () => {
    await client.kv.put('d/1', 'x');
    await client.kv.put('d/2', 'y');
    const one = await client.kv.delete('d/1', { prevKv: true });
    expect(one.deleted).toBe(1);
    expect(one.prevKvs.map((k) => k.valueString)).toEqual(['x']);
    const rest = await client.kv.delete('d/', { prefix: true });
    expect(rest.deleted).toBe(1);
    expect((await client.kv.prefix('d/')).count).toBe(0);
  });

  it('puts with ignoreValue keeps the current value', async () => {
    await client.kv.put('ig', 'v');
    await client.kv.put('ig', '', { ignoreValue: true });
    expect((await client.kv.get('ig'))?.valueString).toBe('v');
  });

  it('runs txns with compares on value, version, create, mod and lease, then and else', async () => {
    const put = await client.kv.put('t/k', 'v1');
    const rev = put.header.revision;
    const ok = await client.kv
      .txn()
      .if(cmp.value('t/k', '==', 'v1'), cmp.version('t/k', '==', 1), cmp.create('t/k', '==', rev))
      .if(cmp.mod('t/k', '<', rev + 1), cmp.lease('t/k', '==', 0n))
      .then(op.put('t/k', 'v2', { prevKv: true }), op.get('t/k'))
      .else(op.get('t/k'))
      .commit();
    expect(ok.succeeded).toBe(true);
    expect(ok.results.map((r) => r.type)).toEqual(['put', 'range']);
    const [putRes, getRes] = ok.results;
    expect(putRes.type === 'put' && putRes.result.prevKv?.valueString).toBe('v1');
    expect(getRes.type === 'range' && getRes.result.kvs[0].valueString).toBe('v2');

    const failed = await client.kv
      .txn()
      .if(cmp.create('t/absent', '!=', 0))
      .then(op.put('t/absent', 'x'))
      .else(op.delete('t/k', { prevKv: true }), op.txn([cmp.version('t/k', '==', 0)], [op.get('t/k')]))
      .commit();
    expect(failed.succeeded).toBe(false);
    const [del, nested] = failed.results;
    expect(del.type === 'delete' && del.result.deleted).toBe(1);
    // etcd evaluates nested compares against the state before the txn, when t/k still existed.
    expect(nested.type === 'txn' && nested.result.succeeded).toBe(false);
    expect(await client.kv.get('t/absent')).toBeUndefined();
  });

  it('keeps every key of a namespaced client under its prefix', async () => {
    const ns = client.namespace('tenant-a/');
    await ns.kv.put('x', '1');
    await ns.kv.put('y', '2');
    expect((await client.kv.get('tenant-a/x'))?.valueString).toBe('1');
    const listed = await ns.kv.range('', { rangeEnd: '\0' });
    expect(listed.kvs.map((k) => k.keyString)).toEqual(['x', 'y']);
    const t = await ns.kv
      .txn()
      .if(cmp.value('x', '==', '1'))
      .then(op.get('y'))
      .commit();
    const r = t.results[0];
    expect(r.type === 'range' && r.result.kvs[0].keyString).toBe('y');
    ns.close();
  });

  it('compacts and reports compacted and future revisions as typed errors', async () => {
    const r1 = (await client.kv.put('c/k', '1')).header.revision;
    await client.kv.put('c/k', '2');
    await client.kv.compact(r1 + 1, { physical: true });
    await expect(client.kv.get('c/k', { revision: r1 })).rejects.toBeInstanceOf(CompactedError);
    await expect(client.kv.get('c/k', { revision: r1 + 1000 })).rejects.toBeInstanceOf(FutureRevisionError);
  });

  it('maps bad input to typed errors', async () => {
    await expect(client.kv.put('', 'x')).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(client.kv.txn().then(op.put('dup', '1'), op.put('dup', '2')).commit()).rejects.toThrow(
      'etcdserver: duplicate key given in txn request',
    );
  });

  it('serves maintenance status, hashKV and member list with 64-bit ids', async () => {
    // One status per member: they agree on one leader among them.
    const statuses = await Promise.all(target.endpoints.map((e) => client.maintenance.status(e)));
    const ids = statuses.map((s) => s.header.memberId);
    expect(typeof statuses[0].leader).toBe('bigint');
    expect(new Set(statuses.map((s) => s.leader)).size).toBe(1);
    expect(ids).toContain(statuses[0].leader);
    const hash = await client.maintenance.hashKV();
    expect(hash.header.revision).toBeGreaterThan(0);
    const { members } = await client.cluster.members();
    expect(members.map((m) => m.id).sort()).toEqual([...ids].sort());
  });

  it('serves alarms, defragment, hash and snapshot through maintenance', async () => {
    expect(await client.maintenance.alarms()).toEqual([]);
    expect(await client.maintenance.disarm()).toEqual([]);
    await client.maintenance.defragment(target.endpoints[1]);
    expect(typeof (await client.maintenance.hash())).toBe('number');
    const chunks: Buffer[] = [];
    for await (const chunk of client.maintenance.snapshot()) chunks.push(chunk);
    expect(Buffer.concat(chunks).length).toBeGreaterThan(0);
  });
});
