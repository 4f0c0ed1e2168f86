/** The etcd v3 Auth service messages, shaped as etcd-types.ts describes. */
import { ResponseHeader } from './etcd-types';

export interface AuthPermission {
  permType?: number;
  key?: Buffer;
  range_end?: Buffer;
}

export interface AuthenticateRequest {
  name?: string;
  password?: string;
}
export interface AuthUserAddRequest {
  name?: string;
  password?: string;
  options?: { no_password?: boolean } | null;
}
export interface AuthUserGetRequest {
  name?: string;
}
export interface AuthUserDeleteRequest {
  name?: string;
}
export interface AuthUserChangePasswordRequest {
  name?: string;
  password?: string;
}
export interface AuthUserGrantRoleRequest {
  user?: string;
  role?: string;
}
export interface AuthUserRevokeRoleRequest {
  name?: string;
  role?: string;
}
export interface AuthRoleAddRequest {
  name?: string;
}
export interface AuthRoleGetRequest {
  role?: string;
}
export interface AuthRoleDeleteRequest {
  role?: string;
}
export interface AuthRoleGrantPermissionRequest {
  name?: string;
  perm?: AuthPermission | null;
}
export interface AuthRoleRevokePermissionRequest {
  role?: string;
  key?: Buffer;
  range_end?: Buffer;
}

/** Cairn's own log messages: what the proposer decided, never a clear password. */
export interface InternalAuthenticateRequest {
  name?: string;
  simple_token_prefix?: string;
}
export interface InternalUserAddRequest {
  name?: string;
  hashed_password?: string;
  no_password?: boolean;
}
export interface InternalUserChangePasswordRequest {
  name?: string;
  hashed_password?: string;
}
/** Who proposed a request, when auth is on: the token's user and its auth revision. */
export interface RequestAuthInfo {
  username?: string;
  auth_revision?: string | number;
}

/** Every Auth response: a header, and for some a token or a list. */
export interface AuthResponse {
  header?: Partial<ResponseHeader>;
  token?: string;
  roles?: string[];
  users?: string[];
  perm?: AuthPermission[];
}
