import { AuthInfo, AuthStore, Permission, TokenProvider } from '../../auth/src';
import { checkDeleteRangeAuth, checkPutAuth, checkTxnAuth } from './auth-checks';
import { AuthPermission, AuthResponse, RequestAuthInfo } from './auth-types';
import { InternalRequest } from './internal-request';

const NONE = Buffer.alloc(0);

/** The keys attached to a lease (none when it does not exist). */
export type LeaseKeys = (id: bigint) => Buffer[];

/** The auth part of the apply step: auth requests, and the permission checks of writes. */
export class AuthApplier {
  constructor(
    readonly store: AuthStore,
    readonly tokens: TokenProvider,
    private readonly leaseKeys: LeaseKeys = () => [],
  ) {}

  /** Refuses a write its proposer may not make, judged by the store as it is at apply time. */
  checkWrite(req: InternalRequest): void {
    const info = authInfoOf(req.auth_info);
    if (req.put) {
      checkPutAuth(this.store, info, req.put);
      // etcd's checkLeasePuts: attaching a lease needs write access to the keys it holds already.
      if (req.put.lease != null && BigInt(req.put.lease) !== 0n) this.checkLeaseKeys(info, req.put.lease);
    } else if (req.delete_range) checkDeleteRangeAuth(this.store, info, req.delete_range);
    else if (req.txn) checkTxnAuth(this.store, info, req.txn);
    // A revoke deletes the lease's keys. One without auth info is the leader's expiry, which etcd
    // makes as root.
    else if (req.lease_revoke && req.auth_info) this.checkLeaseKeys(info, req.lease_revoke.ID ?? 0);
  }

  private checkLeaseKeys(info: AuthInfo | undefined, id: string | number): void {
    for (const key of this.leaseKeys(BigInt(id))) this.store.checkPut(info, key);
  }

  /**
   * Applies an auth request; undefined when `req` is not one. Management needs the root role
   * once auth is on (etcd's needAdminPermission); a user may still get itself and its roles.
   */
  apply(req: InternalRequest, index: number, revision: number): AuthResponse | undefined {
    const s = this.store;
    const info = authInfoOf(req.auth_info);
    const ok = (extra: Omit<AuthResponse, 'header'> = {}): AuthResponse => ({
      header: { revision },
      ...extra,
    });
    if (req.auth_user_get) {
      const name = req.auth_user_get.name ?? '';
      if (!(info && info.username === name)) s.checkAdmin(info);
      return ok({ roles: s.userGet(name) });
    }
    if (req.auth_role_get) {
      const role = req.auth_role_get.role ?? '';
      if (!(info && s.hasRole(info.username, role))) s.checkAdmin(info);
      return ok({ perm: s.roleGet(role).map(toWirePermission) });
    }
    if (req.authenticate) {
      const name = req.authenticate.name ?? '';
      s.authenticate(name);
      return ok({
        token: this.tokens.assign(name, s.revision, req.authenticate.simple_token_prefix ?? '', index),
      });
    }
    if (!isAuthManagement(req)) return undefined;
    s.checkAdmin(info);
    if (req.auth_enable) s.authEnable();
    else if (req.auth_disable) {
      s.authDisable();
      this.tokens.disable();
    } else if (req.auth_user_add) {
      const r = req.auth_user_add;
      s.userAdd(r.name ?? '', r.hashed_password ?? '', !!r.no_password);
    } else if (req.auth_user_delete) {
      const name = req.auth_user_delete.name ?? '';
      s.userDelete(name);
      this.tokens.invalidateUser(name);
    } else if (req.auth_user_change_password) {
      const r = req.auth_user_change_password;
      s.userChangePassword(r.name ?? '', r.hashed_password ?? '');
      this.tokens.invalidateUser(r.name ?? '');
    } else if (req.auth_user_grant_role)
      s.userGrantRole(req.auth_user_grant_role.user ?? '', req.auth_user_grant_role.role ?? '');
    else if (req.auth_user_revoke_role)
      s.userRevokeRole(req.auth_user_revoke_role.name ?? '', req.auth_user_revoke_role.role ?? '');
    else if (req.auth_role_add) s.roleAdd(req.auth_role_add.name ?? '');
    else if (req.auth_role_delete) s.roleDelete(req.auth_role_delete.role ?? '');
    else if (req.auth_role_grant_permission) {
      const r = req.auth_role_grant_permission;
      s.roleGrantPermission(r.name ?? '', fromWirePermission(r.perm ?? {}));
    } else if (req.auth_role_revoke_permission) {
      const r = req.auth_role_revoke_permission;
      s.roleRevokePermission(r.role ?? '', r.key ?? NONE, r.range_end ?? NONE);
    } else if (req.auth_user_list) return ok({ users: s.userList() });
    else if (req.auth_role_list) return ok({ roles: s.roleList() });
    return ok();
  }
}

function isAuthManagement(req: InternalRequest): boolean {
  return !!(
    req.auth_enable ||
    req.auth_disable ||
    req.auth_user_add ||
    req.auth_user_delete ||
    req.auth_user_change_password ||
    req.auth_user_grant_role ||
    req.auth_user_revoke_role ||
    req.auth_role_add ||
    req.auth_role_delete ||
    req.auth_role_grant_permission ||
    req.auth_role_revoke_permission ||
    req.auth_user_list ||
    req.auth_role_list
  );
}

/** The log's auth info as the store reads it; absent = a request without a token. */
export function authInfoOf(raw: RequestAuthInfo | undefined): AuthInfo | undefined {
  if (!raw) return undefined;
  return { username: raw.username ?? '', revision: Number(raw.auth_revision ?? 0) };
}

export function toRequestAuthInfo(info: AuthInfo | undefined): RequestAuthInfo | undefined {
  return info && { username: info.username, auth_revision: String(info.revision) };
}

function fromWirePermission(p: AuthPermission): Permission {
  return { permType: Number(p.permType ?? 0), key: p.key ?? NONE, rangeEnd: p.range_end ?? NONE };
}

function toWirePermission(p: Permission): AuthPermission {
  return { permType: p.permType, key: p.key, range_end: p.rangeEnd };
}
