// Lock and Election are served by every member of a Cairn cluster: contenders on different
// members queue on the same keys, and a follower's waiters and observers see the changes
// another member made (through the follower's own watch hub).
import { CoordinationApi, connectCoordination, waitForKeys } from '../support/coordination-api';
import { FAST_RAFT, MemberProcess, startCluster } from '../support/members';

jest.setTimeout(60_000);

describe('Lock and Election across a 3-member Cairn cluster', () => {
  let members: MemberProcess[];
  let apis: CoordinationApi[];

  beforeAll(async () => {
    members = await startCluster('cairn', 3, { extraArgs: FAST_RAFT });
    apis = members.map((m) => connectCoordination(m.endpoint));
  });
  afterAll(async () => {
    apis?.forEach((a) => a.close());
    await Promise.all((members ?? []).map((m) => m.stop()));
  });

  const grant = async (api: CoordinationApi) => (await api.unary('lease', 'LeaseGrant', { TTL: 60 })).ID;

  it('a waiter on one member gets the lock released on another', async () => {
    const [m1, m2, m3] = apis;
    const held = await m1.unary('lock', 'Lock', { name: Buffer.from('cl'), lease: await grant(m1) });
    const waiterLease = await grant(m2);
    const waiting = m2.unary('lock', 'Lock', { name: Buffer.from('cl'), lease: waiterLease });
    await waitForKeys(m3, 'cl/', 2);
    await m3.unary('lock', 'Unlock', { key: held.key });
    const got = await waiting;
    expect(got.key.toString()).toBe(`cl/${BigInt(waiterLease).toString(16)}`);
    expect(Number(got.header.revision)).toBeGreaterThan(Number(held.header.revision));
  });

  it('an observer on one member follows campaigns and resignations on the others', async () => {
    const [m1, m2, m3] = apis;
    const name = Buffer.from('ce');
    const first = await m1.unary('election', 'Campaign', {
      name,
      lease: await grant(m1),
      value: Buffer.from('one'),
    });
    const observer = m3.observe('ce');
    await observer.until(1);
    const second = m2.unary('election', 'Campaign', {
      name,
      lease: await grant(m2),
      value: Buffer.from('two'),
    });
    await waitForKeys(m3, 'ce/', 2);
    await m1.unary('election', 'Proclaim', { leader: first.leader, value: Buffer.from('one-again') });
    await m3.unary('election', 'Resign', { leader: first.leader });
    const elected = await second;
    const seen = await observer.until(3);
    observer.cancel();
    expect(seen.map((m) => m.kv.value.toString())).toEqual(['one', 'one-again', 'two']);
    expect((await m1.unary('election', 'Leader', { name })).kv.key).toEqual(elected.leader.key);
  });
});
