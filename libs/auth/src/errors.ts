/**
 * Why the auth store refused something. libs/server maps each code to etcd's gRPC status and
 * message (see auth-errors.ts there), as it does for storage errors.
 */
export type AuthErrorCode =
  | 'root-user-not-exist'
  | 'root-role-not-exist'
  | 'user-already-exist'
  | 'user-empty'
  | 'user-not-found'
  | 'role-already-exist'
  | 'role-not-found'
  | 'role-empty'
  | 'auth-failed'
  | 'no-password-user'
  | 'permission-denied'
  | 'role-not-granted'
  | 'permission-not-granted'
  | 'auth-not-enabled'
  | 'invalid-auth-token'
  | 'invalid-auth-mgmt'
  | 'auth-old-revision';

export class AuthError extends Error {
  constructor(readonly code: AuthErrorCode) {
    super(`auth: ${code}`);
    this.name = 'AuthError';
  }
}

export const authError = (code: AuthErrorCode) => new AuthError(code);
