import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../storage/src';
import { AlarmStore, formatAlarm } from './alarms';
import { AlarmAction, AlarmType } from './etcd-types';
import { Member, MemberConfig } from './member';

const b = (s: string) => Buffer.from(s);

describe('AlarmStore', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'cairn-alarms-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('activates, lists and deactivates as etcd, and persists through its ops', async () => {
    const engine = await Engine.open(dir);
    const alarms = await AlarmStore.load(engine);
    const nospace = { memberID: '18446744073709551615', alarm: AlarmType.NOSPACE };
    expect(
      alarms.apply({ action: AlarmAction.ACTIVATE, memberID: nospace.memberID, alarm: AlarmType.NOSPACE }),
    ).toEqual([nospace]);
    // Raising it again changes nothing and answers nothing.
    expect(
      alarms.apply({ action: AlarmAction.ACTIVATE, memberID: nospace.memberID, alarm: AlarmType.NOSPACE }),
    ).toEqual([]);
    expect(alarms.apply({ action: AlarmAction.ACTIVATE, memberID: '7', alarm: AlarmType.NONE })).toEqual([]);
    expect(alarms.apply({ action: AlarmAction.GET })).toEqual([nospace]);
    expect(alarms.apply({ action: AlarmAction.GET, alarm: AlarmType.CORRUPT })).toEqual([]);
    expect(alarms.has(AlarmType.NOSPACE)).toBe(true);
    expect(formatAlarm(nospace)).toBe('memberID:18446744073709551615 alarm:NOSPACE ');
    engine.write(alarms.takeOps());
    await engine.close();

    const engine2 = await Engine.open(dir);
    const loaded = await AlarmStore.load(engine2);
    expect(loaded.list()).toEqual([nospace]);
    expect(loaded.apply({ action: AlarmAction.DEACTIVATE, memberID: '1', alarm: AlarmType.NOSPACE })).toEqual(
      [],
    );
    expect(
      loaded.apply({ action: AlarmAction.DEACTIVATE, memberID: nospace.memberID, alarm: AlarmType.NOSPACE }),
    ).toEqual([nospace]);
    expect(loaded.has(AlarmType.NOSPACE)).toBe(false);
    engine2.write(loaded.takeOps());
    await engine2.close();
    const engine3 = await Engine.open(dir);
    expect((await AlarmStore.load(engine3)).list()).toEqual([]);
    await engine3.close();
  });
});

describe('Member quota and NOSPACE', () => {
  let dir: string;
  const config = (quotaBytes: number | null): MemberConfig => ({
    name: 'm1',
    dataDir: dir,
    initialCluster: { m1: ['http://127.0.0.1:2380'] },
    initialClusterToken: 'etcd-cluster',
    maxRequestBytes: 1.5 * 1024 * 1024,
    maxTxnOps: 128,
    heartbeatIntervalMs: 10,
    electionTimeoutMs: 100,
    quotaBytes,
  });
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'cairn-quota-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const noSpace = expect.objectContaining({ code: 8, message: 'etcdserver: mvcc: database space exceeded' });
  const putTxn = { compare: [], success: [{ request_put: { key: b('t'), value: b('v') } }], failure: [] };

  it('raises NOSPACE past the quota, refuses writes until disarmed, keeps the alarm across restarts', async () => {
    let m = await Member.start(config(16 * 1024));
    const id = m.identity.memberId.toString();
    const value = Buffer.alloc(1000, 'x');
    let refusedAt = -1;
    for (let i = 0; i < 100 && refusedAt < 0; i++) {
      try {
        await m.put({ key: b(`k${i}`), value });
      } catch (err) {
        expect(err).toEqual(noSpace);
        refusedAt = i;
      }
    }
    expect(refusedAt).toBeGreaterThan(5);
    expect((await m.alarm({ action: AlarmAction.GET })).alarms).toEqual([
      { memberID: id, alarm: AlarmType.NOSPACE },
    ]);
    expect(m.status().errors).toEqual([`memberID:${id} alarm:NOSPACE `]);
    await expect(m.txn(putTxn)).rejects.toEqual(noSpace);

    // Deletes and compaction pass; writes stay refused while the alarm is up, even below quota.
    const del = await m.deleteRange({ key: b('k'), range_end: b('l') });
    expect(del.deleted).toBe(refusedAt);
    await m.compact({ revision: del.header!.revision, physical: true });
    await m.defragment();
    expect(Number(m.status().dbSizeInUse)).toBeLessThan(1000);
    await expect(m.put({ key: b('a'), value: b('1') })).rejects.toEqual(noSpace);
    await m.stop();

    m = await Member.start(config(16 * 1024));
    expect(m.status().errors).toEqual([`memberID:${id} alarm:NOSPACE `]);
    await expect(m.put({ key: b('a'), value: b('1') })).rejects.toEqual(noSpace);
    const off = await m.alarm({ action: AlarmAction.DEACTIVATE, memberID: id, alarm: AlarmType.NOSPACE });
    expect(off.alarms).toEqual([{ memberID: id, alarm: AlarmType.NOSPACE }]);
    expect((await m.alarm({ action: AlarmAction.GET })).alarms).toEqual([]);
    expect(m.status().errors).toEqual([]);
    await m.put({ key: b('a'), value: b('1') });
    await m.txn(putTxn);
    await m.stop();
  });

  it('CORRUPT refuses every applied write with DATA_LOSS, before any other check; reads go on', async () => {
    let m = await Member.start(config(null));
    const id = m.identity.memberId.toString();
    await m.put({ key: b('a'), value: b('1') });
    const lease = await m.leases.grant({ TTL: 60 });
    await m.alarm({ action: AlarmAction.ACTIVATE, memberID: id, alarm: AlarmType.CORRUPT });
    const corrupt = expect.objectContaining({ code: 15, message: 'etcdserver: corrupt cluster' });
    await expect(m.put({ key: b('a'), value: b('2') })).rejects.toEqual(corrupt);
    await expect(m.deleteRange({ key: b('a') })).rejects.toEqual(corrupt);
    await expect(m.txn(putTxn)).rejects.toEqual(corrupt);
    await expect(m.compact({ revision: 1 })).rejects.toEqual(corrupt);
    await expect(m.leases.grant({ TTL: 60 })).rejects.toEqual(corrupt);
    await expect(m.leases.revoke({ ID: lease.ID })).rejects.toEqual(corrupt);
    // Reads, read-only txns and the alarm itself are not writes.
    expect((await m.range({ key: b('a') })).kvs[0].value).toEqual(b('1'));
    await m.txn({ compare: [], success: [{ request_range: { key: b('a') } }], failure: [] });
    await m.stop();

    m = await Member.start(config(null));
    expect(m.status().errors).toEqual([`memberID:${id} alarm:CORRUPT `]);
    await expect(m.put({ key: b('a'), value: b('2') })).rejects.toEqual(corrupt);
    await m.alarm({ action: AlarmAction.DEACTIVATE, memberID: id, alarm: AlarmType.CORRUPT });
    await m.put({ key: b('a'), value: b('2') });
    await m.stop();
  });

  it('never refuses without a quota', async () => {
    const m = await Member.start(config(null));
    for (let i = 0; i < 50; i++) await m.put({ key: b(`k${i}`), value: Buffer.alloc(1000) });
    expect(m.status().errors).toEqual([]);
    await m.stop();
  });
});
