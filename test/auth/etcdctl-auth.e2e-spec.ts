// etcdctl 3.4's user, role and auth commands against Cairn: the same command sequence also runs
// against etcd 3.4, and exit code, output and error lines must be identical (parity).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { etcdctl, normalize } from '../etcdctl/ctl';
import { MemberProcess, startMember } from '../support/members';

jest.setTimeout(120_000);

const FLAGS = ['--bcrypt-cost', '4'];
let cairn: MemberProcess;
let etcd: MemberProcess;

beforeAll(async () => {
  const started = await Promise.allSettled([
    startMember('cairn', { extraArgs: FLAGS }),
    startMember('etcd', { extraArgs: FLAGS }),
  ]);
  if (started[0].status === 'fulfilled') cairn = started[0].value;
  if (started[1].status === 'fulfilled') etcd = started[1].value;
  for (const s of started) if (s.status === 'rejected') throw s.reason;
});

afterAll(async () => {
  await Promise.all([cairn?.stop(), etcd?.stop()]);
});

/** Runs the command on both members (etcd first: it is the reference) and asserts parity. */
async function both(args: string[], input?: string) {
  const e = await etcdctl(etcd.endpoint, args, input);
  const c = await etcdctl(cairn.endpoint, args, input);
  expect({ args, ...normalize(c, cairn.endpoint) }).toEqual({ args, ...normalize(e, etcd.endpoint) });
  return c;
}

const ok = async (args: string[], stdout: string, input?: string) => {
  const r = await both(args, input);
  expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 0, stdout });
};

const fails = async (args: string[], message: string) => {
  const r = await both(args);
  expect({ args, failed: r.code !== 0, error: r.stderr.trim().split('\n').pop() }).toEqual({
    args,
    failed: true,
    error: `Error: ${message}`,
  });
};

const root = ['--user', 'root:rootpw'];

it('manages users, roles and auth as etcd does', async () => {
  await fails(['auth', 'enable'], 'etcdserver: root user does not exist');
  await ok(['user', 'add', 'root:rootpw'], 'User root created\n');
  // etcdctl answers "root user does not have root role" by adding the role and granting it.
  await ok(['auth', 'enable'], 'Authentication Enabled\n');
  await ok([...root, 'user', 'get', 'root'], 'User: root\nRoles: root\n');

  await ok([...root, 'user', 'add', 'alice:apw'], 'User alice created\n');
  await ok([...root, 'user', 'add', 'bob', '--no-password'], 'User bob created\n');
  await fails([...root, 'user', 'add', 'alice:x'], 'etcdserver: user name already exists');
  await ok([...root, 'role', 'add', 'reader'], 'Role reader created\n');
  await fails([...root, 'role', 'add', 'reader'], 'etcdserver: role name already exists');
  await ok([...root, 'role', 'grant-permission', 'reader', 'read', 'foo'], 'Role reader updated\n');
  await ok(
    [...root, 'role', 'grant-permission', 'reader', 'readwrite', 'app/', '--prefix'],
    'Role reader updated\n',
  );
  await ok(
    [...root, 'role', 'grant-permission', 'reader', 'write', 'z', '--from-key'],
    'Role reader updated\n',
  );
  await ok([...root, 'role', 'grant-permission', 'reader', 'read', 'k1', 'k5'], 'Role reader updated\n');
  await both([...root, 'role', 'get', 'reader']);
  await ok([...root, 'role', 'list'], 'reader\nroot\n');
  await fails([...root, 'role', 'get', 'nobody'], 'etcdserver: role name not found');
  await ok([...root, 'user', 'grant-role', 'alice', 'reader'], 'Role reader is granted to user alice\n');
  await fails([...root, 'user', 'grant-role', 'alice', 'nobody'], 'etcdserver: role name not found');
  await ok([...root, 'user', 'get', 'alice'], 'User: alice\nRoles: reader\n');
  await both([...root, 'user', 'get', 'alice', '--detail']);
  await ok([...root, 'user', 'list'], 'alice\nbob\nroot\n');
  await fails([...root, 'user', 'get', 'nobody'], 'etcdserver: user name not found');

  // Guarded reads and writes.
  const alice = ['--user', 'alice:apw'];
  await fails(['get', 'foo'], 'etcdserver: user name is empty');
  await fails(['put', 'foo', 'x'], 'etcdserver: user name is empty');
  await ok([...alice, 'put', 'app/x', '1'], 'OK\n');
  await ok([...alice, 'get', 'app/', '--prefix'], 'app/x\n1\n');
  await fails([...alice, 'put', 'foo', '1'], 'etcdserver: permission denied');
  await ok([...alice, 'get', 'foo'], '');
  await fails([...alice, 'get', 'zzz'], 'etcdserver: permission denied');
  await ok([...alice, 'put', 'zzz', '1'], 'OK\n');
  await fails([...alice, 'get', 'k1', 'k6'], 'etcdserver: permission denied');
  await ok([...alice, 'get', 'k2', 'k5'], '');
  await fails([...alice, 'del', 'foo', '--prev-kv'], 'etcdserver: permission denied');
  await fails([...alice, 'user', 'list'], 'etcdserver: permission denied');
  await fails(
    ['--user', 'alice:wrong', 'get', 'foo'],
    'etcdserver: authentication failed, invalid user ID or password',
  );
  await ok([...root, 'get', 'zzz'], 'zzz\n1\n');

  // Maintenance calls etcd keeps for root, refused with its untranslated "auth: ..." errors.
  const snap = join(mkdtempSync(join(tmpdir(), 'cairn-snap-')), 'snap.db');
  await fails(
    [...alice, 'snapshot', 'save', snap],
    'rpc error: code = Unknown desc = auth: permission denied',
  );
  await both([...alice, 'defrag']);
  await both(['endpoint', 'hashkv']);
  expect((await both([...root, 'defrag'])).code).toBe(0);

  // A new password ends the old one; a revoked permission stops access at once.
  await ok([...root, 'user', 'passwd', 'alice', '--interactive=false'], 'Password updated\n', 'apw2\n');
  await fails([...alice, 'get', 'foo'], 'etcdserver: authentication failed, invalid user ID or password');
  const alice2 = ['--user', 'alice:apw2'];
  await ok([...alice2, 'get', 'app/x'], 'app/x\n1\n');
  await ok(
    [...root, 'role', 'revoke-permission', 'reader', 'app/', '--prefix'],
    'Permission of range [app/, app0) is revoked from role reader\n',
  );
  await fails(
    [...root, 'role', 'revoke-permission', 'reader', 'app/', '--prefix'],
    'etcdserver: permission is not granted to the role',
  );
  await fails([...alice2, 'get', 'app/x'], 'etcdserver: permission denied');
  await ok(
    [...root, 'role', 'revoke-permission', 'reader', 'z', '--from-key'],
    'Permission of range [z, <open ended> is revoked from role reader\n',
  );
  await ok(
    [...root, 'role', 'revoke-permission', 'reader', 'foo'],
    'Permission of key foo is revoked from role reader\n',
  );

  // Root's own standing is protected while auth is on.
  await fails([...root, 'user', 'delete', 'root'], 'etcdserver: invalid auth management');
  await fails([...root, 'user', 'revoke-role', 'root', 'root'], 'etcdserver: invalid auth management');
  await fails([...root, 'role', 'delete', 'root'], 'etcdserver: invalid auth management');

  await ok([...root, 'user', 'revoke-role', 'alice', 'reader'], 'Role reader is revoked from user alice\n');
  await fails(
    [...root, 'user', 'revoke-role', 'alice', 'reader'],
    'etcdserver: role is not granted to the user',
  );
  await ok([...root, 'role', 'delete', 'reader'], 'Role reader deleted\n');
  await ok([...root, 'user', 'delete', 'alice'], 'User alice deleted\n');
  await fails([...root, 'user', 'delete', 'alice'], 'etcdserver: user name not found');
  await ok([...root, 'auth', 'disable'], 'Authentication Disabled\n');
  await ok(['get', 'zzz'], 'zzz\n1\n');
});
