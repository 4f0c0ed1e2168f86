// Differential test of the Auth service and of permission checks: the same sequence of user,
// role and permission operations and guarded reads and writes goes to etcd 3.4 and to Cairn,
// and every answer (response or gRPC status and message) must be identical. Both are 3-member
// clusters and the requests go to a follower, so they take the forwarding paths.
import * as fc from 'fast-check';
import { Target, startTarget } from '../support/targets';
import { AuthClient, connectAuth, outcome } from './auth-client';

jest.setTimeout(300_000);

const b = (s: string) => Buffer.from(s, 'latin1');
// The cheapest cost etcd accepts: the tests check behaviour, not hashing strength.
const FLAGS = ['--bcrypt-cost', '4'];

let targets: Target[] = [];
/** The follower of Cairn's cluster and of etcd's that the clients talk to, in that order. */
let endpoints: string[];
let clients: AuthClient[];

/** A member that is not the leader (a later leader change only makes the test less thorough). */
async function followerOf(t: Target): Promise<string> {
  const statuses = await Promise.all(
    t.endpoints.map(async (e) => {
      const c = connectAuth(e);
      try {
        return await c.maintenance('Status');
      } finally {
        c.close();
      }
    }),
  );
  const i = statuses.findIndex((s) => String(s.header.member_id) !== String(s.leader));
  if (i < 0) throw new Error('no follower');
  return t.endpoints[i];
}

beforeAll(async () => {
  const started = await Promise.allSettled([startTarget('cairn', FLAGS), startTarget('etcd', FLAGS)]);
  targets = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  for (const s of started) if (s.status === 'rejected') throw s.reason;
  endpoints = await Promise.all(targets.map(followerOf));
  clients = endpoints.map((e) => connectAuth(e));
});

afterAll(async () => {
  clients?.forEach((c) => c.close());
  await Promise.all(targets.map((t) => t.stop()));
});

/** Runs `script` on both members and expects the same list of outcomes. */
async function differential(
  script: (c: AuthClient, log: (p: Promise<any>) => Promise<any>) => Promise<void>,
) {
  const logs: any[][] = [];
  for (const c of clients) {
    const log: any[] = [];
    await script(c, async (p) => {
      const o = await outcome(p);
      if (o.ok?.token) o.ok.token = '<token>';
      log.push(o);
      return o;
    });
    logs.push(log);
  }
  expect(logs[0]).toEqual(logs[1]);
  return logs[0];
}

/** A token for `name`, straight from the member (no normalisation). */
async function login(c: AuthClient, name: string, password: string): Promise<string> {
  return (await c.auth('Authenticate', { name, password })).token;
}

describe('the Auth API', () => {
  it('answers management, login and guarded requests as etcd does', async () => {
    const log = await differential(async (c, log) => {
      const perm = (permType: number, key: string, range_end = '') => ({
        permType,
        key: b(key),
        range_end: b(range_end),
      });
      await log(c.auth('AuthEnable'));
      await log(c.auth('UserAdd', { name: '', password: 'x' }));
      await log(c.auth('UserAdd', { name: 'root', password: 'rootpw' }));
      await log(c.auth('AuthEnable'));
      await log(c.auth('UserGrantRole', { user: 'root', role: 'root' }));
      await log(c.auth('RoleAdd', { name: '' }));
      await log(c.auth('RoleAdd', { name: 'r1' }));
      await log(c.auth('RoleAdd', { name: 'r1' }));
      await log(c.auth('RoleGrantPermission', { name: 'r1', perm: perm(0, 'a', 'c') }));
      await log(c.auth('RoleGrantPermission', { name: 'r1', perm: perm(1, 'b') }));
      await log(c.auth('RoleGrantPermission', { name: 'r1', perm: perm(2, 'm', '\u0000') }));
      await log(c.auth('RoleGrantPermission', { name: 'r1', perm: perm(2, 'a', 'c') }));
      await log(c.auth('RoleGrantPermission', { name: 'nope', perm: perm(2, 'a') }));
      await log(c.auth('RoleGet', { role: 'r1' }));
      await log(c.auth('RoleGet', { role: 'root' }));
      await log(c.auth('UserAdd', { name: 'u1', password: 'pw1' }));
      await log(c.auth('UserAdd', { name: 'u1', password: 'pw1' }));
      await log(c.auth('UserAdd', { name: 'u2', options: { no_password: true } }));
      await log(c.auth('UserGrantRole', { user: 'u1', role: 'r1' }));
      await log(c.auth('UserGrantRole', { user: 'u1', role: 'r1' }));
      await log(c.auth('UserGrantRole', { user: 'u1', role: 'nope' }));
      await log(c.auth('UserGrantRole', { user: 'nope', role: 'r1' }));
      await log(c.auth('UserGet', { name: 'u1' }));
      await log(c.auth('UserGet', { name: 'nope' }));
      await log(c.auth('UserList'));
      await log(c.auth('RoleList'));
      await log(c.auth('UserRevokeRole', { name: 'u1', role: 'nope' }));
      await log(c.auth('RoleRevokePermission', { role: 'r1', key: b('z') }));
      await log(c.auth('RoleRevokePermission', { role: 'nope', key: b('z') }));
      await log(c.auth('Authenticate', { name: 'root', password: 'rootpw' }));
      await log(c.auth('AuthEnable'));
      await log(c.auth('AuthEnable'));
      await log(c.auth('Authenticate', { name: 'root', password: 'wrong' }));
      await log(c.auth('Authenticate', { name: 'u2', password: '' }));
      await log(c.auth('Authenticate', { name: 'nope', password: 'x' }));
      const root = await login(c, 'root', 'rootpw');
      const u1 = await login(c, 'u1', 'pw1');
      await log(c.auth('UserList'));
      await log(c.auth('UserList', {}, root));
      await log(c.auth('UserDelete', { name: 'root' }, root));
      await log(c.auth('UserRevokeRole', { name: 'root', role: 'root' }, root));
      await log(c.auth('RoleDelete', { role: 'root' }, root));
      await log(c.auth('UserGet', { name: 'u1' }, u1));
      await log(c.auth('UserGet', { name: 'root' }, u1));
      await log(c.auth('RoleGet', { role: 'r1' }, u1));
      await log(c.auth('RoleGet', { role: 'root' }, u1));
      await log(c.auth('RoleList', {}, u1));
      await log(c.auth('UserAdd', { name: 'x', password: 'x' }, u1));
      // Guarded KV requests.
      await log(c.kv('Range', { key: b('a') }));
      await log(c.kv('Put', { key: b('a'), value: b('1') }));
      await log(c.kv('DeleteRange', { key: b('a') }));
      await log(c.kv('Txn', { success: [{ request_range: { key: b('a') } }] }));
      await log(c.kv('Txn', { success: [{ request_put: { key: b('a') } }] }));
      await log(c.kv('Range', { key: b('a') }, 'not-a-token'));
      await log(c.kv('Put', { key: b('a'), value: b('1') }, u1));
      await log(c.kv('Put', { key: b('b'), value: b('2'), prev_kv: true }, u1));
      await log(c.kv('Put', { key: b('c'), value: b('3') }, u1));
      await log(c.kv('Put', { key: b('zz'), value: b('4') }, u1));
      await log(c.kv('Range', { key: b('a'), range_end: b('c') }, u1));
      await log(c.kv('Range', { key: b('a'), range_end: b('d') }, u1));
      await log(c.kv('Range', { key: b('n'), range_end: b('\u0000') }, u1));
      await log(c.kv('DeleteRange', { key: b('a'), range_end: b('c'), prev_kv: true }, u1));
      await log(c.kv('DeleteRange', { key: b('n'), range_end: b('\u0000') }, u1));
      await log(c.kv('Put', { key: b('zz'), value: b('4') }, root));
      const cmp = (key: string) => ({ key: b(key), target: 3, result: 0, value: b('4') });
      await log(c.kv('Txn', { compare: [cmp('zz')], success: [{ request_put: { key: b('a') } }] }, u1));
      await log(c.kv('Txn', { compare: [cmp('a')], failure: [{ request_put: { key: b('zzz') } }] }, u1));
      await log(c.kv('Txn', { compare: [cmp('a')], success: [{ request_range: { key: b('y') } }] }, u1));
      await log(c.kv('Txn', { compare: [cmp('a')], failure: [{ request_range: { key: b('m') } }] }, u1));
      await log(c.kv('Compact', { revision: 1 }));
      // Maintenance calls etcd keeps for root.
      await log(c.maintenance('Defragment', {}, u1));
      await log(c.maintenance('Hash', {}));
      await log(c.maintenance('HashKV', {}, u1));
      // A changed password ends the user's tokens; a revoked permission applies at once.
      await log(c.auth('UserChangePassword', { name: 'u1', password: 'pw2' }, root));
      await log(c.kv('Range', { key: b('a') }, u1));
      const u1b = await login(c, 'u1', 'pw2');
      await log(c.kv('Range', { key: b('m') }, u1b));
      await log(c.auth('RoleRevokePermission', { role: 'r1', key: b('m'), range_end: b('\u0000') }, root));
      await log(c.kv('Range', { key: b('m') }, u1b));
      await log(c.auth('RoleDelete', { role: 'r1' }, root));
      await log(c.auth('UserGet', { name: 'u1' }, root));
      await log(c.auth('UserDelete', { name: 'u1' }, root));
      await log(c.kv('Range', { key: b('a') }, u1b));
      await log(c.auth('AuthDisable', {}, u1b));
      await log(c.auth('AuthDisable', {}, root));
      await log(c.kv('Range', { key: b('a') }));
      await log(c.auth('AuthDisable'));
    });
    // The comparison is the test; these make sure the script exercised both outcomes.
    expect(log.filter((o) => o.error).length).toBeGreaterThan(30);
    expect(log.filter((o) => o.ok).length).toBeGreaterThan(30);
  });
});

describe('permissions', () => {
  const KEYS = ['a', 'ab', 'b', 'c', 'ca', 'x'];
  const key = fc.constantFrom(...KEYS);
  const end = fc.constantFrom('', '\u0000', ...KEYS, 'b\u0000');
  // Ranges whose end sorts before their key (in permissions or requests) are left out, and so
  // are empty permissions (end equal to key): etcd's interval tree skips subtrees for them, so its
  // answer depends on the tree's shape. An empty request [k, k) next to an empty permission
  // [k, k) is refused or allowed by etcd depending on which role was granted first (checked
  // against the etcd 3.4 binary). Cairn treats such a permission as granting nothing and such a
  // request (which selects no key) as allowed where its first key is.
  const proper = <T extends { key: string; range_end: string }>(r: T) =>
    r.range_end === '' || r.range_end === '\u0000' || r.range_end >= r.key;
  const nonEmpty = <T extends { key: string; range_end: string }>(r: T) => r.range_end !== r.key;
  const permArb = fc
    .record({ permType: fc.integer({ min: 0, max: 2 }), key, range_end: end })
    .filter((p) => proper(p) && nonEmpty(p));
  const rangeArb = fc.record({ key, range_end: end }).filter(proper);
  const opArb = fc.oneof(
    fc.record({ range: rangeArb }),
    fc.record({ put: fc.record({ key, prev_kv: fc.boolean() }) }),
    fc.record({ del: fc.record({ range: rangeArb, prev_kv: fc.boolean() }) }),
    fc.record({ txn: fc.record({ cmp: key, then: key, otherwise: rangeArb }) }),
  );

  it('lets a user read and write exactly what its roles allow, as etcd does', async () => {
    for (const c of clients) {
      await outcome(c.auth('UserAdd', { name: 'root', password: 'rootpw' })); // may exist already
      await c.auth('UserGrantRole', { user: 'root', role: 'root' });
      await c.auth('AuthEnable');
    }
    let run = 0;
    let refused = 0;
    let allowed = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(permArb, { maxLength: 3 }), { minLength: 1, maxLength: 2 }),
        fc.array(opArb, { minLength: 1, maxLength: 6 }),
        async (roles, ops) => {
          const user = `p${run++}`;
          const log = await differential(async (c, log) => {
            const root = await login(c, 'root', 'rootpw');
            await c.auth('UserAdd', { name: user, password: 'pw' }, root);
            for (const [i, perms] of roles.entries()) {
              await c.auth('RoleAdd', { name: `${user}-${i}` }, root);
              for (const p of perms) {
                const perm = { permType: p.permType, key: b(p.key), range_end: b(p.range_end) };
                await log(c.auth('RoleGrantPermission', { name: `${user}-${i}`, perm }, root));
              }
              await c.auth('UserGrantRole', { user, role: `${user}-${i}` }, root);
            }
            const token = await login(c, user, 'pw');
            for (const op of ops) {
              if ('range' in op)
                await log(c.kv('Range', { key: b(op.range.key), range_end: b(op.range.range_end) }, token));
              else if ('put' in op)
                await log(
                  c.kv('Put', { key: b(op.put.key), value: b(user), prev_kv: op.put.prev_kv }, token),
                );
              else if ('del' in op)
                await log(
                  c.kv(
                    'DeleteRange',
                    {
                      key: b(op.del.range.key),
                      range_end: b(op.del.range.range_end),
                      prev_kv: op.del.prev_kv,
                    },
                    token,
                  ),
                );
              else {
                const t = op.txn;
                const compare = [{ key: b(t.cmp), target: 0, result: 0, version: 0 }];
                const success = [{ request_put: { key: b(t.then), value: b(user) } }];
                const failure = [
                  { request_range: { key: b(t.otherwise.key), range_end: b(t.otherwise.range_end) } },
                ];
                await log(c.kv('Txn', { compare, success, failure }, token));
              }
            }
          });
          for (const o of log) {
            if (o.error?.details === 'etcdserver: permission denied') refused++;
            else if (o.ok) allowed++;
          }
        },
      ),
      { numRuns: 40 },
    );
    expect(refused).toBeGreaterThan(0);
    expect(allowed).toBeGreaterThan(0);
  });
});

describe('the token metadata key', () => {
  it('is read from `authorization` when there is no `token`, as etcd does', async () => {
    for (const c of clients) {
      // Root with auth on, whether or not the tests before ran.
      await outcome(c.auth('UserAdd', { name: 'root', password: 'rootpw' }));
      await outcome(c.auth('UserGrantRole', { user: 'root', role: 'root' }));
      await outcome(c.auth('AuthEnable'));
    }
    const log = await differential(async (c, log) => {
      const endpoint = endpoints[clients.indexOf(c)];
      const viaAuthorization = connectAuth(endpoint, 'authorization');
      try {
        const token = await login(c, 'root', 'rootpw');
        await log(viaAuthorization.kv('Put', { key: b('h'), value: b('v') }, token));
        await log(viaAuthorization.kv('Range', { key: b('h') }, 'garbage'));
      } finally {
        viaAuthorization.close();
      }
    });
    expect(log[0].ok).toBeDefined();
    expect(log[1].error).toEqual({ code: 16, details: 'etcdserver: invalid auth token' });
  });
});

describe('leases under auth', () => {
  it('need write access to the keys a lease holds to attach or revoke it, as etcd checks', async () => {
    const log = await differential(async (c, log) => {
      await outcome(c.auth('UserAdd', { name: 'root', password: 'rootpw' }));
      await outcome(c.auth('UserGrantRole', { user: 'root', role: 'root' }));
      await outcome(c.auth('AuthEnable'));
      const root = await login(c, 'root', 'rootpw');
      await c.auth('UserAdd', { name: 'lu', password: 'pw' }, root);
      await c.auth('RoleAdd', { name: 'lr' }, root);
      const perm = { permType: 2, key: b('l/'), range_end: b('l0') };
      await c.auth('RoleGrantPermission', { name: 'lr', perm }, root);
      await c.auth('UserGrantRole', { user: 'lu', role: 'lr' }, root);
      const lu = await login(c, 'lu', 'pw');
      const held = { ID: '7001', TTL: 600 };
      const empty = { ID: '7002', TTL: 600 };
      await log(c.lease('LeaseGrant', held, root));
      await log(c.lease('LeaseGrant', empty, lu));
      await log(c.kv('Put', { key: b('secret'), value: b('s'), lease: held.ID }, root));
      await log(c.kv('Put', { key: b('l/mine'), value: b('m'), lease: held.ID }, lu));
      await log(c.kv('Put', { key: b('l/mine'), value: b('m'), lease: empty.ID }, lu));
      await log(c.lease('LeaseRevoke', { ID: held.ID }, lu));
      await log(c.lease('LeaseRevoke', { ID: held.ID }));
      await log(c.lease('LeaseRevoke', { ID: empty.ID }, lu));
      await log(c.lease('LeaseRevoke', { ID: held.ID }, root));
      await log(c.kv('Range', { key: b('secret') }, root));
    });
    expect(log.filter((o) => o.error?.details === 'etcdserver: permission denied').length).toBe(2);
    expect(log[log.length - 1].ok.count).toBe('0');
  });

  it('expire with auth on (the leader revokes as root)', async () => {
    const remaining: number[] = [];
    for (const c of clients) {
      const root = await login(c, 'root', 'rootpw');
      await c.lease('LeaseGrant', { ID: '7100', TTL: 2 }, root);
      await c.kv('Put', { key: b('expiring'), value: b('x'), lease: '7100' }, root);
      let count = 1;
      for (let i = 0; i < 40 && count > 0; i++) {
        await new Promise((r) => setTimeout(r, 250));
        count = Number((await c.kv('Range', { key: b('expiring') }, root)).count);
      }
      remaining.push(count);
    }
    expect(remaining).toEqual([0, 0]);
  });
});

describe('watches under auth', () => {
  it('are refused at creation, with etcd 3.4 words, unless the caller may read the whole range', async () => {
    const replies = await differential(async (c, log) => {
      await outcome(c.auth('UserAdd', { name: 'root', password: 'rootpw' }));
      await outcome(c.auth('UserGrantRole', { user: 'root', role: 'root' }));
      await outcome(c.auth('AuthEnable'));
      const root = await login(c, 'root', 'rootpw');
      await c.auth('UserAdd', { name: 'wu', password: 'pw' }, root);
      await c.auth('RoleAdd', { name: 'wr' }, root);
      const perm = { permType: 0, key: b('w/'), range_end: b('w0') };
      await c.auth('RoleGrantPermission', { name: 'wr', perm }, root);
      await c.auth('UserGrantRole', { user: 'wu', role: 'wr' }, root);
      const wu = await login(c, 'wu', 'pw');
      const creates = [
        { key: b('w/a') },
        { key: b('w/'), range_end: b('w0') },
        { key: b('w/'), range_end: b('x') },
        { key: b('secret') },
        // etcd 3.4 checks only the first key of a from-key watch (its quirk, kept).
        { key: b('w/'), range_end: b('\0') },
      ];
      await log(c.watch(creates, wu));
      await log(c.watch([{ key: b('w/a') }]));
      await log(c.watch([{ key: b('w/a') }], 'forged.1'));
      await log(c.watch([{ key: b('secret') }], root));
    });
    const reasons = replies.flatMap((o) => o.ok ?? []).map((r: any) => r.cancel_reason ?? '');
    expect(reasons.filter((r: string) => r.includes('permission denied')).length).toBe(2);
    expect(reasons.some((r: string) => r.includes('user name is empty'))).toBe(true);
    expect(reasons.some((r: string) => r.includes('invalid auth token'))).toBe(true);
  });
});

describe('membership changes under auth', () => {
  it('are for root only, as etcd checks them; the member list is for everyone', async () => {
    const log = await differential(async (c, log) => {
      await outcome(c.auth('UserAdd', { name: 'root', password: 'rootpw' }));
      await outcome(c.auth('UserGrantRole', { user: 'root', role: 'root' }));
      await outcome(c.auth('AuthEnable'));
      const root = await login(c, 'root', 'rootpw');
      await outcome(c.auth('UserAdd', { name: 'mu', password: 'pw' }, root));
      const mu = await login(c, 'mu', 'pw');
      const [self] = (await c.cluster('MemberList', {}, root)).members;
      const update = { ID: self.ID, peerURLs: self.peerURLs };
      const done = (p: Promise<unknown>) => log(p.then(() => 'done'));
      await done(c.cluster('MemberList', {}));
      await done(c.cluster('MemberUpdate', update));
      await done(c.cluster('MemberUpdate', update, mu));
      await done(c.cluster('MemberRemove', { ID: '12345' }, mu));
      await done(c.cluster('MemberUpdate', update, root));
    });
    expect(log.map((o) => o.ok ?? o.error.details)).toEqual([
      'done',
      'etcdserver: user name is empty',
      'etcdserver: permission denied',
      'etcdserver: permission denied',
      'done',
    ]);
  });
});
