import { AuthStore, AuthStoreOp } from './auth-store';
import { AuthError } from './errors';
import { PermType } from './permissions';

const b = (s: string) => Buffer.from(s);

/** Replays persisted ops into a record map, as RocksDB would hold them. */
function persist(records: Map<string, Buffer>, ops: AuthStoreOp[]): void {
  for (const op of ops) {
    if (op.type === 'put') records.set(op.key, op.value);
    else records.delete(op.key);
  }
}

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof AuthError) return err.code;
    throw err;
  }
  return 'ok';
};

function storeWithRoot(): AuthStore {
  const s = new AuthStore();
  s.userAdd('root', 'hash-root', false);
  s.roleAdd('root');
  s.userGrantRole('root', 'root');
  return s;
}

describe('AuthStore', () => {
  it('enables auth only with a root user holding the root role', () => {
    const s = new AuthStore();
    expect(code(() => s.authEnable())).toBe('root-user-not-exist');
    s.userAdd('root', 'h', false);
    expect(code(() => s.authEnable())).toBe('root-role-not-exist');
    s.userGrantRole('root', 'root'); // the root role needs no definition
    expect(code(() => s.authEnable())).toBe('ok');
    expect(s.enabled).toBe(true);
  });

  it('answers etcd errors for bad management requests', () => {
    const s = storeWithRoot();
    expect(code(() => s.userAdd('', 'h', false))).toBe('user-empty');
    expect(code(() => s.userAdd('root', 'h', false))).toBe('user-already-exist');
    expect(code(() => s.roleAdd(''))).toBe('role-empty');
    expect(code(() => s.roleAdd('root'))).toBe('role-already-exist');
    expect(code(() => s.userGet('nobody'))).toBe('user-not-found');
    expect(code(() => s.roleGet('none'))).toBe('role-not-found');
    expect(code(() => s.userGrantRole('root', 'none'))).toBe('role-not-found');
    expect(code(() => s.userGrantRole('nobody', 'root'))).toBe('user-not-found');
    expect(code(() => s.userRevokeRole('root', 'none'))).toBe('role-not-granted');
    expect(code(() => s.roleRevokePermission('root', b('a'), b('')))).toBe('permission-not-granted');
    s.authEnable();
    expect(code(() => s.userDelete('root'))).toBe('invalid-auth-mgmt');
    expect(code(() => s.userRevokeRole('root', 'root'))).toBe('invalid-auth-mgmt');
    expect(code(() => s.roleDelete('root'))).toBe('invalid-auth-mgmt');
  });

  it('bumps the revision on every change, not on a refused one', () => {
    const s = storeWithRoot();
    const r0 = s.revision;
    s.roleAdd('r');
    expect(s.revision).toBe(r0 + 1);
    expect(code(() => s.roleAdd('r'))).toBe('role-already-exist');
    expect(s.revision).toBe(r0 + 1);
    s.roleGrantPermission('r', { permType: PermType.READ, key: b('a'), rangeEnd: b('') });
    expect(s.revision).toBe(r0 + 2);
  });

  it('checks permissions per user at the revision of its token', () => {
    const s = storeWithRoot();
    s.userAdd('u', 'h', false);
    s.roleAdd('r');
    s.roleGrantPermission('r', { permType: PermType.READWRITE, key: b('a'), rangeEnd: b('c') });
    s.userGrantRole('u', 'r');
    s.authEnable();
    const u = { username: 'u', revision: s.revision };
    expect(code(() => s.checkRange(u, b('a'), b('c')))).toBe('ok');
    expect(code(() => s.checkPut(u, b('d')))).toBe('permission-denied');
    expect(code(() => s.checkRange(undefined, b('a')))).toBe('user-empty');
    expect(code(() => s.checkAdmin(u))).toBe('permission-denied');
    expect(code(() => s.checkAdmin({ username: 'root', revision: s.revision }))).toBe('ok');
    expect(code(() => s.checkPut({ username: 'root', revision: s.revision }, b('zzz')))).toBe('ok');
    // A revoked permission is honoured at once, and a token from before the change is stale.
    s.roleRevokePermission('r', b('a'), b('c'));
    expect(code(() => s.checkRange(u, b('a')))).toBe('auth-old-revision');
    expect(code(() => s.checkRange({ ...u, revision: s.revision }, b('a')))).toBe('permission-denied');
  });

  it('regrants a permission in place and keeps permissions sorted by key', () => {
    const s = new AuthStore();
    s.roleAdd('r');
    s.roleGrantPermission('r', { permType: PermType.READ, key: b('m'), rangeEnd: b('') });
    s.roleGrantPermission('r', { permType: PermType.READ, key: b('a'), rangeEnd: b('c') });
    s.roleGrantPermission('r', { permType: PermType.WRITE, key: b('a'), rangeEnd: b('c') });
    expect(s.roleGet('r').map((p) => [p.key.toString(), p.rangeEnd.toString(), p.permType])).toEqual([
      ['a', 'c', PermType.WRITE],
      ['m', '', PermType.READ],
    ]);
  });

  it('removes a deleted role from its users', () => {
    const s = new AuthStore();
    s.userAdd('u', 'h', false);
    s.roleAdd('r');
    s.userGrantRole('u', 'r');
    s.roleDelete('r');
    expect(s.userGet('u')).toEqual([]);
  });

  it('comes back the same from its persisted records', () => {
    const records = new Map<string, Buffer>();
    const s = storeWithRoot();
    s.userAdd('u', 'h', true);
    s.roleAdd('r');
    s.roleGrantPermission('r', { permType: PermType.READWRITE, key: b('a'), rangeEnd: Buffer.from([0]) });
    s.userGrantRole('u', 'r');
    s.roleAdd('gone');
    s.roleDelete('gone');
    s.authEnable();
    persist(records, s.takeOps());
    const t = AuthStore.fromRecords(records);
    expect(t.enabled).toBe(true);
    expect(t.revision).toBe(s.revision);
    expect(t.userList()).toEqual(['root', 'u']);
    expect(t.roleList()).toEqual(['r', 'root']);
    expect(t.userGet('u')).toEqual(['r']);
    expect(t.roleGet('r')).toEqual(s.roleGet('r'));
    expect(code(() => t.passwordHashOf('u'))).toBe('no-password-user');
    expect(t.passwordHashOf('root').hash).toBe('hash-root');
    expect(s.takeOps()).toEqual([]);
  });
});
