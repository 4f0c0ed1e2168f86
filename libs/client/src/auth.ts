// Auth administration: enable/disable, users, roles and key-range permissions.
import { Connection } from './connection';
import { CallOptions } from './options';
import { Bytes, Namespace, prefixEnd } from './types';

export type PermissionType = 'READ' | 'WRITE' | 'READWRITE';
export interface Permission {
  type: PermissionType;
  key: Buffer;
  /** Empty: the single key. */
  rangeEnd: Buffer;
}

export class AuthClient {
  constructor(
    private readonly conn: Connection,
    private readonly ns: Namespace,
  ) {}

  private call<T = any>(method: string, req: object, opts?: CallOptions): Promise<T> {
    // Auth changes are mutating; reads of users and roles are idempotent.
    const safety = /Get$|List$/.test(method) ? 'idempotent' : 'mutating';
    return this.conn.unary<T>('Auth', method, req, safety, opts);
  }

  async enable(opts?: CallOptions): Promise<void> {
    await this.call('AuthEnable', {}, opts);
  }

  async disable(opts?: CallOptions): Promise<void> {
    await this.call('AuthDisable', {}, opts);
  }

  async addUser(name: string, password: string, opts?: CallOptions): Promise<void> {
    await this.call('UserAdd', { name, password, options: { no_password: false } }, opts);
  }

  async getUserRoles(name: string, opts?: CallOptions): Promise<string[]> {
    return (await this.call('UserGet', { name }, opts)).roles;
  }

  async users(opts?: CallOptions): Promise<string[]> {
    return (await this.call('UserList', {}, opts)).users;
  }

  async deleteUser(name: string, opts?: CallOptions): Promise<void> {
    await this.call('UserDelete', { name }, opts);
  }

  async changePassword(name: string, password: string, opts?: CallOptions): Promise<void> {
    await this.call('UserChangePassword', { name, password }, opts);
  }

  async grantRole(user: string, role: string, opts?: CallOptions): Promise<void> {
    await this.call('UserGrantRole', { user, role }, opts);
  }

  async revokeRole(user: string, role: string, opts?: CallOptions): Promise<void> {
    await this.call('UserRevokeRole', { name: user, role }, opts);
  }

  async addRole(name: string, opts?: CallOptions): Promise<void> {
    await this.call('RoleAdd', { name }, opts);
  }

  async rolePermissions(role: string, opts?: CallOptions): Promise<Permission[]> {
    const r = await this.call('RoleGet', { role }, opts);
    return r.perm.map((p: any) => ({ type: p.permType, key: this.ns.strip(p.key), rangeEnd: p.range_end }));
  }

  async roles(opts?: CallOptions): Promise<string[]> {
    return (await this.call('RoleList', {}, opts)).roles;
  }

  async deleteRole(role: string, opts?: CallOptions): Promise<void> {
    await this.call('RoleDelete', { role }, opts);
  }

  /** Grants `type` on a key, a prefix (`prefix: true`) or [key, rangeEnd). */
  async grantPermission(
    role: string,
    type: PermissionType,
    key: Bytes,
    options: { prefix?: boolean; rangeEnd?: Bytes } & CallOptions = {},
  ): Promise<void> {
    const k = this.ns.key(key);
    const rangeEnd = options.prefix
      ? prefixEnd(k)
      : options.rangeEnd !== undefined
        ? this.ns.rangeEnd(options.rangeEnd)
        : Buffer.alloc(0);
    await this.call(
      'RoleGrantPermission',
      { name: role, perm: { permType: type, key: k, range_end: rangeEnd } },
      options,
    );
  }

  async revokePermission(
    role: string,
    key: Bytes,
    options: { prefix?: boolean; rangeEnd?: Bytes } & CallOptions = {},
  ): Promise<void> {
    const k = this.ns.key(key);
    const rangeEnd = options.prefix
      ? prefixEnd(k)
      : options.rangeEnd !== undefined
        ? this.ns.rangeEnd(options.rangeEnd)
        : Buffer.alloc(0);
    await this.call('RoleRevokePermission', { role, key: k, range_end: rangeEnd }, options);
  }
}
