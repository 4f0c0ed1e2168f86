// Leases through the SDK: keep-alive, the 'lost' event, revoke, time-to-live, listing, typed errors.
// Runs against both targets of test/support/targets.ts: 3-member etcd 3.4 and Cairn clusters.
import { CairnClient, Lease, LeaseNotFoundError } from '../../libs/client/src';
import { TARGET_KINDS, Target, startTarget } from '../support/targets';

jest.setTimeout(60_000);

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

describe.each(TARGET_KINDS)('client Lease against %s', (kind) => {
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

  it('keeps a granted lease alive past its TTL, and its keys with it', async () => {
    const lease = await client.lease.grant(2);
    expect(typeof lease.id).toBe('bigint');
    await client.kv.put('ka/k', 'v', { lease: lease.id });
    const renewed = new Promise((ok) => lease.once('keepalive', ok));
    await sleep(3500); // longer than the TTL: only the keep-alives keep the key
    await renewed;
    expect((await client.kv.get('ka/k'))?.lease).toBe(lease.id);
    const ttl = await lease.timeToLive({ keys: true });
    expect(ttl.ttl).toBeGreaterThan(0);
    expect(ttl.grantedTtl).toBe(2);
    expect(ttl.keys.map(String)).toEqual(['ka/k']);
    expect(await client.lease.leases()).toContain(lease.id);
    await lease.revoke();
    expect(await client.kv.get('ka/k')).toBeUndefined();
    expect((await client.lease.timeToLive(lease.id)).ttl).toBe(-1);
  });

  it("emits 'lost' when the lease is revoked elsewhere", async () => {
    const lease: Lease = await client.lease.grant(5);
    const lost = new Promise<Error>((ok) => lease.once('lost', ok));
    const other = new CairnClient({ endpoints: target.endpoints });
    await other.lease.revoke(lease.id);
    other.close();
    expect(await lost).toBeInstanceOf(LeaseNotFoundError);
    expect(lease.lost).toBe(true);
  });

  it('lets a lease that is not kept alive expire, and grants chosen 64-bit ids', async () => {
    const id = 0x7fff_ffff_ffff_0001n; // beyond 2^53: must survive the round trip exactly
    const lease = await client.lease.grant(1, { id, keepAlive: false });
    expect(lease.id).toBe(id);
    await client.kv.put('exp/k', 'v', { lease: id });
    while (await client.kv.get('exp/k')) await sleep(200); // the key goes once the lease expires
    expect((await client.lease.timeToLive(id)).ttl).toBe(-1);
    await expect(client.lease.revoke(id)).rejects.toBeInstanceOf(LeaseNotFoundError);
  });

  it('maps a put on an unknown lease to LeaseNotFoundError', async () => {
    await expect(client.kv.put('l', 'x', { lease: 123456789n })).rejects.toBeInstanceOf(LeaseNotFoundError);
  });
});
