import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Member, MemberConfig } from './member';

const b = (s: string) => Buffer.from(s);
const MAX_INT64 = '9223372036854775807';

jest.setTimeout(60_000);

/** Polls `check` until it holds; generous, since the machine may be busy. */
async function eventually(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await sleep(50);
  }
}

describe('Member leases', () => {
  let dir: string;
  let member: Member | undefined;
  // Heartbeat 10 ms, election 100 ms: etcd's rule makes the minimum TTL 1 s.
  const config = (quotaBytes: number | null = null): MemberConfig => ({
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
  const start = async (quotaBytes: number | null = null) => (member = await Member.start(config(quotaBytes)));
  const restart = async () => {
    await member!.stop();
    return start();
  };
  const count = async (m: Member, key = 'k', end = 'l', revision?: number) =>
    Number((await m.range({ key: b(key), range_end: b(end), count_only: true, revision })).count);
  const keysOf = async (m: Member, id: string) =>
    (await m.leases.timeToLive({ ID: id, keys: true })).keys.map(String).sort();

  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'cairn-leases-'))));
  afterEach(async () => {
    await member?.stop();
    member = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('grants with proposer-chosen or client ids and refuses what etcd refuses', async () => {
    const m = await start();
    const chosen = await m.leases.grant({ TTL: 60 });
    expect(BigInt(chosen.ID)).toBeGreaterThan(0n);
    expect(chosen).toMatchObject({ TTL: '60', error: '', header: m.header() });
    expect(await m.leases.grant({ ID: MAX_INT64, TTL: 0 })).toMatchObject({ ID: MAX_INT64, TTL: '1' });
    await expect(m.leases.grant({ ID: MAX_INT64, TTL: 10 })).rejects.toMatchObject({
      code: 9,
      message: 'etcdserver: lease already exists',
    });
    await expect(m.leases.grant({ TTL: '9000000001' })).rejects.toMatchObject({
      code: 11,
      message: 'etcdserver: too large lease TTL',
    });
    await expect(m.leases.revoke({ ID: 42 })).rejects.toMatchObject({
      code: 5,
      message: 'etcdserver: requested lease not found',
    });
    await expect(m.put({ key: b('k'), value: b('v'), lease: 42 })).rejects.toMatchObject({ code: 5 });
    expect((await m.leases.keepAlive({ ID: 42 })).TTL).toBe(0);
    expect(await m.leases.timeToLive({ ID: 42 })).toMatchObject({ ID: '42', TTL: '-1', grantedTTL: '0' });
    expect(
      m.leases
        .leases()
        .leases.map((l) => l.ID)
        .sort(),
    ).toEqual([chosen.ID, MAX_INT64].sort());
  });

  it('attaches keys by put and txn, keeps leases and keys across restarts, revokes in one revision', async () => {
    let m = await start();
    await m.leases.grant({ ID: MAX_INT64, TTL: 600 });
    await m.leases.grant({ ID: '-5', TTL: 600 });
    await m.put({ key: b('k1'), value: b('v'), lease: MAX_INT64 });
    await m.txn({
      compare: [],
      success: [
        { request_put: { key: b('k2'), value: b('v'), lease: MAX_INT64 } },
        { request_put: { key: b('k3'), value: b('v'), lease: '-5' } },
      ],
      failure: [],
    });
    await m.put({ key: b('k3'), value: b('w'), lease: MAX_INT64 });
    await m.put({ key: b('k4'), value: b('v'), lease: MAX_INT64 });
    await m.put({ key: b('k4'), value: b('w'), ignore_lease: true });
    await m.put({ key: b('k5'), value: b('v'), lease: MAX_INT64 });
    await m.deleteRange({ key: b('k5') });
    expect(await keysOf(m, MAX_INT64)).toEqual(['k1', 'k2', 'k3', 'k4']);
    expect(await keysOf(m, '-5')).toEqual([]);

    m = await restart();
    expect(await keysOf(m, MAX_INT64)).toEqual(['k1', 'k2', 'k3', 'k4']);
    expect((await m.leases.timeToLive({ ID: '-5' })).grantedTTL).toBe('600');

    const before = m.store.revision;
    const revoked = await m.leases.revoke({ ID: MAX_INT64 });
    expect(revoked.header.revision).toBe(before + 1);
    expect(await count(m)).toBe(0);
    expect(await count(m, 'k', 'l', before)).toBe(4);
    expect((await m.leases.timeToLive({ ID: MAX_INT64 })).TTL).toBe('-1');

    m = await restart();
    expect(m.leases.leases().leases).toEqual([{ ID: '-5' }]);
    expect(m.store.revision).toBe(before + 1);
  });

  it('expires a lease on the leader and deletes its keys, also after a restart in between', async () => {
    let m = await start();
    const { ID } = await m.leases.grant({ TTL: 3 });
    await m.put({ key: b('k1'), value: b('v'), lease: ID });
    await m.put({ key: b('k2'), value: b('v'), lease: ID });
    m = await restart();
    expect(await keysOf(m, ID)).toEqual(['k1', 'k2']);
    const before = m.store.revision;
    await eventually(async () => (await count(m)) === 0);
    // Both keys went in the one revision of the revoke.
    expect(m.store.revision).toBe(before + 1);
    expect((await m.leases.timeToLive({ ID })).TTL).toBe('-1');
  });

  it('does not expire a lease that is kept alive', async () => {
    const m = await start();
    const { ID } = await m.leases.grant({ TTL: 1 });
    await m.put({ key: b('k1'), value: b('v'), lease: ID });
    // Keep it alive for several TTLs, renewing far more often than it needs.
    const until = Date.now() + 4_000;
    while (Date.now() < until) {
      expect((await m.leases.keepAlive({ ID })).TTL).toBe(1);
      await sleep(50);
    }
    expect(await count(m)).toBe(1);
    // Left alone, it expires.
    await eventually(async () => (await count(m)) === 0);
  });

  it('refuses grants once over quota, as etcd, while revokes still pass', async () => {
    const m = await start(4 * 1024);
    const { ID } = await m.leases.grant({ TTL: 600 });
    await m.put({ key: b('k0'), value: b('v'), lease: ID });
    const noSpace = { code: 8, message: 'etcdserver: mvcc: database space exceeded' };
    await expect(
      (async () => {
        for (let i = 1; i < 100; i++) await m.put({ key: b(`k${i}`), value: Buffer.alloc(500) });
      })(),
    ).rejects.toMatchObject(noSpace);
    await expect(m.leases.grant({ TTL: 600 })).rejects.toMatchObject(noSpace);
    await m.leases.revoke({ ID });
    expect(m.leases.leases().leases).toEqual([]);
  });
});
