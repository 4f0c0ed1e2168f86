// Leases on a 3-member cluster: keep-alives and TimeToLive sent to a follower reach the leader,
// and a leader failover expires none of the leases their holders keep alive, while a lease left
// alone still expires under the new leader.
import { connect, EtcdApi, settle } from '../support/etcd-api';
import { LeaseApi, connectLease } from '../support/lease-api';
import { FAST_RAFT, MemberProcess, startCluster } from '../support/members';

jest.setTimeout(120_000);

interface Node {
  member: MemberProcess;
  api: EtcdApi;
  lease: LeaseApi;
  id: string;
}

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

let nodes: Node[];

beforeAll(async () => {
  const members = await startCluster('cairn', 3, { extraArgs: FAST_RAFT });
  nodes = await Promise.all(
    members.map(async (member) => {
      const api = connect(member.endpoint);
      const id = String((await api.maintenance.Status({})).header.member_id);
      return { member, api, lease: connectLease(member.endpoint), id };
    }),
  );
});

afterAll(async () => {
  for (const n of nodes ?? []) {
    n.api.close();
    n.lease.close();
  }
  await Promise.all((nodes ?? []).map((n) => n.member.stop()));
});

/** The leader every live member agrees on (excluding `notId`), polling until they do. */
async function leaderOf(live: Node[], notId?: string): Promise<Node> {
  for (let attempt = 0; attempt < 300; attempt++) {
    const statuses = await Promise.all(live.map((n) => settle(n.api.maintenance.Status({}))));
    const leaders = new Set(statuses.map((s) => (s.ok ? String(s.ok.leader) : 'error')));
    const [leader] = leaders;
    const node = live.find((n) => n.id === leader);
    if (leaders.size === 1 && node && leader !== notId) return node;
    await sleep(100);
  }
  throw new Error('no agreed leader');
}

async function exists(n: Node, key: string): Promise<boolean> {
  const res = await n.api.kv.Range({ key: Buffer.from(key) });
  return res.kvs.length > 0;
}

it('a follower forwards keep-alives and TimeToLive to the leader', async () => {
  const leader = await leaderOf(nodes);
  const follower = nodes.find((n) => n !== leader)!;
  const { ID } = await follower.lease.grant({ TTL: 30 });
  await follower.lease.put({ key: Buffer.from('fwd/a'), value: Buffer.from('1'), lease: ID });

  const [alive] = await follower.lease.keepAlive([ID]);
  expect(alive).toMatchObject({ ID, TTL: '30' });
  const ttl = await follower.lease.timeToLive({ ID, keys: true });
  expect(ttl.grantedTTL).toBe('30');
  expect(Number(ttl.TTL)).toBeGreaterThan(25);
  expect(ttl.keys.map((k: Buffer) => k.toString())).toEqual(['fwd/a']);

  // Unknown leases get the leader's answers through the follower too.
  const [unknown] = await follower.lease.keepAlive(['12345']);
  expect(unknown.TTL).toBe('0');
  expect((await follower.lease.timeToLive({ ID: '12345' })).TTL).toBe('-1');
});

it('a leader failover expires none of the 5-second leases kept alive, and expiry goes on after it', async () => {
  const leader = await leaderOf(nodes);
  const follower = nodes.find((n) => n !== leader)!;
  const kept: string[] = [];
  for (let i = 0; i < 5; i++) {
    const { ID } = await follower.lease.grant({ TTL: 5 });
    await follower.lease.put({ key: Buffer.from(`kept/${i}`), value: Buffer.from('v'), lease: ID });
    kept.push(ID);
  }
  const { ID: abandoned } = await follower.lease.grant({ TTL: 5 });
  await follower.lease.put({ key: Buffer.from('abandoned'), value: Buffer.from('v'), lease: abandoned });

  // The holder renews every second through the follower, as a client would, whatever happens.
  let holding = true;
  const holder = (async () => {
    while (holding) {
      await follower.lease.keepAlive(kept).catch(() => undefined);
      await sleep(1000);
    }
  })();

  await leader.member.kill('SIGKILL');
  const live = nodes.filter((n) => n !== leader);
  await leaderOf(live, leader.id);
  // Longer than the TTL after the failover: any lease the failover let expire is gone by now.
  await sleep(8000);

  for (let i = 0; i < kept.length; i++) {
    for (const n of live) expect(await exists(n, `kept/${i}`)).toBe(true);
    expect(Number((await follower.lease.timeToLive({ ID: kept[i] })).TTL)).toBeGreaterThan(0);
  }
  // The lease nobody renewed expires under the new leader, its key with it.
  for (let i = 0; i < 100 && (await exists(follower, 'abandoned')); i++) await sleep(200);
  expect(await exists(follower, 'abandoned')).toBe(false);

  holding = false;
  await holder;
});
