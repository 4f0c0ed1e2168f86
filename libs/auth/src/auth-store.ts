import { AuthError, authError } from './errors';
import { Permission, PermType, UserPermissions } from './permissions';

export const ROOT_USER = 'root';
export const ROOT_ROLE = 'root';

/** Who made a request, as its token said, and the auth revision the token was checked at. */
export interface AuthInfo {
  username: string;
  revision: number;
}

export interface User {
  name: string;
  /** The bcrypt hash; empty for a user added with no_password. */
  passwordHash: string;
  /** Kept sorted, as etcd keeps them. */
  roles: string[];
  noPassword: boolean;
}

export interface Role {
  name: string;
  /** Kept sorted by key, as etcd keeps them. */
  permissions: Permission[];
}

/** A write the store needs persisted, under the auth keyspace (the member adds its prefix). */
export type AuthStoreOp = { type: 'put'; key: string; value: Buffer } | { type: 'del'; key: string };

const ENABLED_KEY = 'enabled';
const REVISION_KEY = 'revision';
const userKey = (name: string) => `user/${name}`;
const roleKey = (name: string) => `role/${name}`;

/**
 * etcd's auth store: users, roles, their permissions, the enabled flag and the auth revision,
 * bumped on every change so cached permissions and old tokens can be told stale. Changed only
 * by applying requests from the log (every member the same way); the changes are handed to the
 * applier as writes for its batch (`takeOps`).
 */
export class AuthStore {
  private enabledFlag = false;
  private rev = 1;
  private readonly users = new Map<string, User>();
  private readonly roles = new Map<string, Role>();
  /** Merged permissions per user, valid for the current revision only. */
  private readonly cache = new Map<string, UserPermissions>();
  private pending: AuthStoreOp[] = [];

  /** Rebuilds the store from its persisted records (keys relative to the auth keyspace). */
  static fromRecords(records: Iterable<[string, Buffer]>): AuthStore {
    const store = new AuthStore();
    store.replaceWith(records);
    return store;
  }

  /** Replaces everything with the persisted records (after a snapshot replaced them). */
  replaceWith(records: Iterable<[string, Buffer]>): void {
    this.enabledFlag = false;
    this.rev = 1;
    this.users.clear();
    this.roles.clear();
    this.cache.clear();
    this.pending = [];
    for (const [key, value] of records) {
      if (key === ENABLED_KEY) this.enabledFlag = value[0] === 1;
      else if (key === REVISION_KEY) this.rev = Number(value.toString('utf8'));
      else if (key.startsWith('user/')) {
        const u = decodeUser(value);
        this.users.set(u.name, u);
      } else if (key.startsWith('role/')) {
        const r = decodeRole(value);
        this.roles.set(r.name, r);
      }
    }
  }

  get enabled(): boolean {
    return this.enabledFlag;
  }

  get revision(): number {
    return this.rev;
  }

  /** The writes the changes since the last call need; the applier flushes them with its batch. */
  takeOps(): AuthStoreOp[] {
    const ops = this.pending;
    this.pending = [];
    return ops;
  }

  // ---- changes (apply side) ----

  authEnable(): void {
    if (this.enabledFlag) return;
    const root = this.users.get(ROOT_USER);
    if (!root) throw authError('root-user-not-exist');
    if (!root.roles.includes(ROOT_ROLE)) throw authError('root-role-not-exist');
    this.enabledFlag = true;
    this.pending.push({ type: 'put', key: ENABLED_KEY, value: Buffer.from([1]) });
    this.cache.clear();
  }

  authDisable(): void {
    if (!this.enabledFlag) return;
    this.enabledFlag = false;
    this.pending.push({ type: 'put', key: ENABLED_KEY, value: Buffer.from([0]) });
    this.commit();
  }

  /** Checks a user may be given a token: password already checked by the proposer. */
  authenticate(name: string): void {
    if (!this.enabledFlag) throw authError('auth-not-enabled');
    const user = this.users.get(name);
    if (!user || user.noPassword) throw authError('auth-failed');
  }

  userAdd(name: string, passwordHash: string, noPassword: boolean): void {
    if (name.length === 0) throw authError('user-empty');
    if (this.users.has(name)) throw authError('user-already-exist');
    this.putUser({ name, passwordHash: noPassword ? '' : passwordHash, roles: [], noPassword });
    this.commit();
  }

  userDelete(name: string): void {
    if (this.enabledFlag && name === ROOT_USER) throw authError('invalid-auth-mgmt');
    if (!this.users.has(name)) throw authError('user-not-found');
    this.users.delete(name);
    this.pending.push({ type: 'del', key: userKey(name) });
    this.commit();
  }

  userChangePassword(name: string, passwordHash: string): void {
    const user = this.getUser(name);
    this.putUser({ ...user, passwordHash });
    this.commit();
  }

  userGrantRole(name: string, role: string): void {
    const user = this.getUser(name);
    // The root role needs no definition to be granted.
    if (role !== ROOT_ROLE && !this.roles.has(role)) throw authError('role-not-found');
    if (user.roles.includes(role)) return;
    this.putUser({ ...user, roles: [...user.roles, role].sort(compareStrings) });
    this.commit();
  }

  userRevokeRole(name: string, role: string): void {
    if (this.enabledFlag && name === ROOT_USER && role === ROOT_ROLE) throw authError('invalid-auth-mgmt');
    const user = this.getUser(name);
    if (!user.roles.includes(role)) throw authError('role-not-granted');
    this.putUser({ ...user, roles: user.roles.filter((r) => r !== role) });
    this.commit();
  }

  roleAdd(name: string): void {
    if (name.length === 0) throw authError('role-empty');
    if (this.roles.has(name)) throw authError('role-already-exist');
    this.putRole({ name, permissions: [] });
    this.commit();
  }

  roleDelete(name: string): void {
    if (this.enabledFlag && name === ROOT_ROLE) throw authError('invalid-auth-mgmt');
    if (!this.roles.has(name)) throw authError('role-not-found');
    this.roles.delete(name);
    this.pending.push({ type: 'del', key: roleKey(name) });
    for (const user of [...this.users.values()]) {
      if (user.roles.includes(name)) this.putUser({ ...user, roles: user.roles.filter((r) => r !== name) });
    }
    this.commit();
  }

  /**
   * Adds a permission, or changes the type of the one with the same key and range end found
   * where etcd looks for it (the first permission whose key is not below the new key).
   */
  roleGrantPermission(name: string, perm: Permission): void {
    const role = this.getRole(name);
    const perms = role.permissions.map((p) => ({ ...p }));
    const idx = perms.findIndex((p) => Buffer.compare(p.key, perm.key) >= 0);
    const at = perms[idx];
    if (at && at.key.equals(perm.key) && at.rangeEnd.equals(perm.rangeEnd)) {
      at.permType = perm.permType;
    } else {
      perms.push({ permType: perm.permType, key: perm.key, rangeEnd: perm.rangeEnd });
      perms.sort((a, b) => Buffer.compare(a.key, b.key)); // stable: equal keys keep their order
    }
    this.putRole({ name, permissions: perms });
    this.commit();
  }

  roleRevokePermission(name: string, key: Buffer, rangeEnd: Buffer): void {
    const role = this.getRole(name);
    const kept = role.permissions.filter((p) => !p.key.equals(key) || !p.rangeEnd.equals(rangeEnd));
    if (kept.length === role.permissions.length) throw authError('permission-not-granted');
    this.putRole({ name, permissions: kept });
    this.commit();
  }

  // ---- queries ----

  userGet(name: string): string[] {
    return [...this.getUser(name).roles];
  }

  userList(): string[] {
    return [...this.users.keys()].sort(compareStrings);
  }

  roleGet(name: string): Permission[] {
    return this.getRole(name).permissions.map((p) => ({ ...p }));
  }

  roleList(): string[] {
    return [...this.roles.keys()].sort(compareStrings);
  }

  hasRole(user: string, role: string): boolean {
    return this.users.get(user)?.roles.includes(role) ?? false;
  }

  /**
   * The password hash to check a login against and the revision it was read at (etcd's
   * CheckPassword, minus the bcrypt comparison the caller runs off the apply path).
   */
  passwordHashOf(name: string): { hash: string; revision: number } {
    if (!this.enabledFlag) throw authError('auth-not-enabled');
    const user = this.users.get(name);
    if (!user) throw authError('auth-failed');
    if (user.noPassword) throw authError('no-password-user');
    return { hash: user.passwordHash, revision: this.rev };
  }

  userExists(name: string): boolean {
    return this.users.has(name);
  }

  // ---- permission checks ----

  /** etcd's IsAdminPermitted: with auth on, only a user holding the root role. */
  checkAdmin(info: AuthInfo | undefined): void {
    if (!this.enabledFlag) return;
    if (!info || info.username === '') throw authError('user-empty');
    const user = this.users.get(info.username);
    if (!user) throw authError('user-not-found');
    if (!user.roles.includes(ROOT_ROLE)) throw authError('permission-denied');
  }

  /** Whether `info` may read [key, rangeEnd) (see UserPermissions.allows for rangeEnd). */
  checkRange(info: AuthInfo | undefined, key: Buffer, rangeEnd?: Buffer | null): void {
    this.checkOp(info, 'read', key, rangeEnd);
  }

  checkPut(info: AuthInfo | undefined, key: Buffer): void {
    this.checkOp(info, 'write', key, undefined);
  }

  checkDeleteRange(info: AuthInfo | undefined, key: Buffer, rangeEnd?: Buffer | null): void {
    this.checkOp(info, 'write', key, rangeEnd);
  }

  /** Non-throwing form, for callers that answer a refusal themselves (watch creation). */
  isPermitted(
    info: AuthInfo | undefined,
    kind: 'read' | 'write',
    key: Buffer,
    rangeEnd?: Buffer | null,
  ): boolean {
    try {
      this.checkOp(info, kind, key, rangeEnd);
      return true;
    } catch (err) {
      if (err instanceof AuthError) return false;
      throw err;
    }
  }

  private checkOp(
    info: AuthInfo | undefined,
    kind: 'read' | 'write',
    key: Buffer,
    rangeEnd: Buffer | null | undefined,
  ): void {
    if (!this.enabledFlag) return;
    // A request without a token carries revision 0.
    if (!info || info.revision === 0) throw authError('user-empty');
    if (info.revision < this.rev) throw authError('auth-old-revision');
    const user = this.users.get(info.username);
    if (!user) throw authError('permission-denied');
    if (user.roles.includes(ROOT_ROLE)) return;
    if (!this.permissionsOf(user).allows(kind, key, rangeEnd)) throw authError('permission-denied');
  }

  private permissionsOf(user: User): UserPermissions {
    let perms = this.cache.get(user.name);
    if (!perms) {
      const all = user.roles.flatMap((r) => this.roles.get(r)?.permissions ?? []);
      perms = new UserPermissions(all);
      this.cache.set(user.name, perms);
    }
    return perms;
  }

  // ---- internals ----

  private getUser(name: string): User {
    const user = this.users.get(name);
    if (!user) throw authError('user-not-found');
    return user;
  }

  private getRole(name: string): Role {
    const role = this.roles.get(name);
    if (!role) throw authError('role-not-found');
    return role;
  }

  private putUser(user: User): void {
    this.users.set(user.name, user);
    this.pending.push({ type: 'put', key: userKey(user.name), value: encodeUser(user) });
  }

  private putRole(role: Role): void {
    this.roles.set(role.name, role);
    this.pending.push({ type: 'put', key: roleKey(role.name), value: encodeRole(role) });
  }

  /** Every change bumps the revision: cached permissions and tokens of older revisions go stale. */
  private commit(): void {
    this.rev += 1;
    this.cache.clear();
    this.pending.push({ type: 'put', key: REVISION_KEY, value: Buffer.from(String(this.rev), 'utf8') });
  }
}

/** Byte order, as Go sorts strings. */
const compareStrings = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

function encodeUser(u: User): Buffer {
  return Buffer.from(JSON.stringify(u), 'utf8');
}

function decodeUser(b: Buffer): User {
  return JSON.parse(b.toString('utf8')) as User;
}

function encodeRole(r: Role): Buffer {
  const permissions = r.permissions.map((p) => ({
    permType: p.permType,
    key: p.key.toString('base64'),
    rangeEnd: p.rangeEnd.toString('base64'),
  }));
  return Buffer.from(JSON.stringify({ name: r.name, permissions }), 'utf8');
}

function decodeRole(b: Buffer): Role {
  const raw = JSON.parse(b.toString('utf8')) as {
    name: string;
    permissions: { permType: PermType; key: string; rangeEnd: string }[];
  };
  return {
    name: raw.name,
    permissions: raw.permissions.map((p) => ({
      permType: p.permType,
      key: Buffer.from(p.key, 'base64'),
      rangeEnd: Buffer.from(p.rangeEnd, 'base64'),
    })),
  };
}
