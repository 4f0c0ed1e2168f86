import { AuthError, AuthErrorCode } from '../../auth/src';
import { EtcdError, GrpcCode } from './etcd-errors';

const { FAILED_PRECONDITION, INVALID_ARGUMENT, PERMISSION_DENIED, UNAUTHENTICATED } = GrpcCode;

/** etcd 3.4's gRPC status and message for each auth store error (its rpctypes). */
const AUTH_ERRORS: Record<AuthErrorCode, [GrpcCode, string]> = {
  'root-user-not-exist': [FAILED_PRECONDITION, 'etcdserver: root user does not exist'],
  'root-role-not-exist': [FAILED_PRECONDITION, 'etcdserver: root user does not have root role'],
  'user-already-exist': [FAILED_PRECONDITION, 'etcdserver: user name already exists'],
  'user-empty': [INVALID_ARGUMENT, 'etcdserver: user name is empty'],
  'user-not-found': [FAILED_PRECONDITION, 'etcdserver: user name not found'],
  'role-already-exist': [FAILED_PRECONDITION, 'etcdserver: role name already exists'],
  'role-not-found': [FAILED_PRECONDITION, 'etcdserver: role name not found'],
  'role-empty': [INVALID_ARGUMENT, 'etcdserver: role name is empty'],
  'auth-failed': [INVALID_ARGUMENT, 'etcdserver: authentication failed, invalid user ID or password'],
  // etcd 3.4 lets this one through untranslated.
  'no-password-user': [
    GrpcCode.UNKNOWN,
    'auth: authentication failed, password was given for no password user',
  ],
  'permission-denied': [PERMISSION_DENIED, 'etcdserver: permission denied'],
  'role-not-granted': [FAILED_PRECONDITION, 'etcdserver: role is not granted to the user'],
  'permission-not-granted': [FAILED_PRECONDITION, 'etcdserver: permission is not granted to the role'],
  'auth-not-enabled': [FAILED_PRECONDITION, 'etcdserver: authentication is not enabled'],
  'invalid-auth-token': [UNAUTHENTICATED, 'etcdserver: invalid auth token'],
  'invalid-auth-mgmt': [INVALID_ARGUMENT, 'etcdserver: invalid auth management'],
  'auth-old-revision': [INVALID_ARGUMENT, 'etcdserver: revision of auth store is old'],
};

/** What the KV, Auth and Cluster services answer for an auth store error. */
export function fromAuthError(err: unknown): unknown {
  if (!(err instanceof AuthError)) return err;
  const [code, message] = AUTH_ERRORS[err.code];
  return new EtcdError(code, message);
}

/**
 * What etcd 3.4's Maintenance service answers (Defragment, Hash, HashKV, Snapshot): the auth
 * store's own error text, untranslated, hence gRPC's UNKNOWN ("auth: permission denied").
 */
export function fromAuthErrorRaw(err: unknown): unknown {
  if (!(err instanceof AuthError)) return err;
  const text = AUTH_ERRORS[err.code][1].replace(/^etcdserver: /, 'auth: ');
  return new EtcdError(GrpcCode.UNKNOWN, text);
}
