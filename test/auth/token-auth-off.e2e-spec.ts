// Differential test: with authentication disabled, etcd 3.4 still checks a token a request carries
// (every token is forgotten when auth is disabled), so an unknown one is refused on the calls that
// look the caller up, and ignored on those that never do. Cairn must answer each call the same way.
import { connectCoordination } from '../support/coordination-api';
import { MemberProcess, startMember } from '../support/members';
import { AuthClient, connectAuth, outcome } from './auth-client';

jest.setTimeout(120_000);

const b = (s: string) => Buffer.from(s, 'latin1');
const FLAGS = ['--bcrypt-cost', '4'];

let members: MemberProcess[] = [];
let clients: AuthClient[] = [];

beforeAll(async () => {
  const started = await Promise.allSettled([
    startMember('etcd', { extraArgs: FLAGS }),
    startMember('cairn', { extraArgs: FLAGS }),
  ]);
  members = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  for (const s of started) if (s.status === 'rejected') throw s.reason;
  clients = members.map((m) => connectAuth(m.endpoint));
});

afterAll(async () => {
  clients.forEach((c) => c.close());
  await Promise.all(members.map((m) => m.stop()));
});

/** Every call made with `token` to member i, as "ok" or its gRPC status and message. */
async function answers(i: number, token: string): Promise<Record<string, unknown>> {
  // Replies differ between the two servers (ids, versions); only whether and how a call fails is compared.
  const result = async (p: Promise<unknown>) => (await outcome(p)).error ?? 'ok';
  const c = clients[i];
  const watch = await c.watch([{ key: b('w') }], token);
  const coordination = connectCoordination(members[i].endpoint, token);
  const [lock, unlock, leader, resign] = await Promise.all([
    result(coordination.unary('lock', 'Lock', { name: b('l'), lease: '1' })),
    result(coordination.unary('lock', 'Unlock', { key: b('l/1') })),
    result(coordination.unary('election', 'Leader', { name: b('e') })),
    result(coordination.unary('election', 'Resign', { leader: { name: b('e'), key: b('e/1'), rev: '1' } })),
  ]);
  coordination.close();
  return {
    lock,
    unlock,
    leader,
    resign,
    range: await result(c.kv('Range', { key: b('a') }, token)),
    serializableRange: await result(c.kv('Range', { key: b('a'), serializable: true }, token)),
    put: await result(c.kv('Put', { key: b('a'), value: b('1') }, token)),
    deleteRange: await result(c.kv('DeleteRange', { key: b('a') }, token)),
    txn: await result(c.kv('Txn', { success: [{ request_range: { key: b('a') } }] }, token)),
    compact: await result(c.kv('Compact', { revision: 1 }, token)),
    leaseGrant: await result(c.lease('LeaseGrant', { TTL: 30 }, token)),
    leaseRevoke: await result(c.lease('LeaseRevoke', { ID: 12345 }, token)),
    leaseTimeToLive: await result(c.lease('LeaseTimeToLive', { ID: 12345 }, token)),
    leaseLeases: await result(c.lease('LeaseLeases', {}, token)),
    status: await result(c.maintenance('Status', {}, token)),
    alarm: await result(c.maintenance('Alarm', {}, token)),
    hashKV: await result(c.maintenance('HashKV', {}, token)),
    memberList: await result(c.cluster('MemberList', {}, token)),
    memberRemove: await result(c.cluster('MemberRemove', { ID: 1 }, token)),
    userList: await result(c.auth('UserList', {}, token)),
    authenticate: await result(c.auth('Authenticate', { name: 'root', password: 'rootpw' }, token)),
    watch: watch.map((r) => ({ created: r.created, canceled: r.canceled, reason: r.cancel_reason })),
  };
}

describe('a token sent while authentication is disabled', () => {
  it('is refused or ignored call by call as etcd does, also when it was valid before auth was disabled', async () => {
    const logs: unknown[] = [];
    for (const [i, c] of clients.entries()) {
      const bogus = await answers(i, 'not-a-token');
      await c.auth('UserAdd', { name: 'root', password: 'rootpw' });
      await c.auth('UserGrantRole', { user: 'root', role: 'root' });
      await c.auth('AuthEnable');
      const root = (await c.auth('Authenticate', { name: 'root', password: 'rootpw' })).token;
      await c.auth('AuthDisable', {}, root);
      const stale = await answers(i, root);
      const none = await outcome(c.kv('Put', { key: b('a'), value: b('2') }));
      logs.push({ bogus, stale, none: none.error ?? 'ok' });
    }
    expect(logs[1]).toEqual(logs[0]);
    // The comparison must not pass vacuously: etcd does refuse the bogus token on a read.
    expect((logs[0] as any).bogus.range).toEqual({ code: 16, details: 'etcdserver: invalid auth token' });
    expect((logs[0] as any).bogus.lock).toEqual({ code: 2, details: 'etcdserver: invalid auth token' });
  });
});
