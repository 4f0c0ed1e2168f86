import {
  AuthInfo,
  AuthStore,
  DEFAULT_BCRYPT_COST,
  TokenProvider,
  authError,
  checkPassword,
  hashPassword,
  newTokenPrefix,
} from '../../auth/src';
import { toRequestAuthInfo } from './auth-applier';
import { fromAuthError, fromAuthErrorRaw } from './auth-errors';
import * as a from './auth-types';
import { RequestAuthInfo } from './auth-types';
import { EtcdError } from './etcd-errors';
import { InternalRequest } from './internal-request';

/** gRPC status codes as Go spells them in an error's text ("rpc error: code = ..."). */
const GO_CODE_NAMES = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
];

/** gRPC metadata as handlers receive it (grpc-js Metadata). */
export interface RequestMetadata {
  get(key: string): unknown[];
}

/** The part of a grpc-js server call that tells the client's verified TLS certificate. */
export interface RequestCall {
  getAuthContext?(): { sslPeerCertificate?: { subject?: { CN?: string | string[] } } };
}

/**
 * Who sent a request: known already, or resolved when asked, so that a linearizable read
 * resolves the token only after its read index, as etcd does.
 */
export type Caller = AuthInfo | (() => AuthInfo | undefined);

export function whoIs(caller: Caller | undefined): AuthInfo | undefined {
  return typeof caller === 'function' ? caller() : caller;
}

type Submit = (req: Omit<InternalRequest, 'id'>) => Promise<a.AuthResponse>;

/**
 * The member's Auth service and token checks: resolves who a request comes from, hashes and
 * checks passwords on this member (off the apply path), and proposes every auth change and
 * query through the log, as etcd does.
 */
export class MemberAuth {
  constructor(
    readonly store: AuthStore,
    readonly tokens: TokenProvider,
    private readonly submit: Submit,
    private readonly readIndex: () => Promise<void>,
    private readonly bcryptCost: number = DEFAULT_BCRYPT_COST,
    private readonly certUsers: boolean = false,
  ) {}

  /**
   * Who sent a request, from its `token` metadata (or `authorization`, as etcd's gateway
   * sends it); undefined with auth off. A token that is unknown, expired or forged gets
   * etcd's invalid auth token error, which makes clients log in again: etcd checks the token
   * even with auth off (every token is forgotten when auth is disabled), so Cairn does too.
   */
  infoFrom(meta: RequestMetadata | undefined, call?: RequestCall): AuthInfo | undefined {
    try {
      const info = this.resolve(meta, call);
      return this.store.enabled ? info : undefined;
    } catch (err) {
      throw fromAuthError(err);
    }
  }

  /** Only the token check of infoFrom, for calls etcd lets anyone make (Compact, LeaseGrant). */
  checkToken(meta: RequestMetadata | undefined, call?: RequestCall): void {
    this.infoFrom(meta, call);
  }

  /** The token check as etcd 3.4's Maintenance.Alarm answers it (raw "auth: ..." text). */
  checkTokenRaw(meta: RequestMetadata | undefined, call?: RequestCall): void {
    try {
      this.resolve(meta, call);
    } catch (err) {
      throw fromAuthErrorRaw(err);
    }
  }

  private resolve(meta: RequestMetadata | undefined, call?: RequestCall): AuthInfo | undefined {
    const token = firstString(meta, 'token') ?? firstString(meta, 'authorization');
    if (token === undefined) return this.certUsers ? this.certUser(call) : undefined;
    const info = this.tokens.info(token, this.store.revision);
    if (!info) throw authError('invalid-auth-token');
    return info;
  }

  /**
   * etcd's AuthInfoFromTLS: without a token, under --client-cert-auth, the common name of the
   * client's verified certificate is the user.
   */
  private certUser(call: RequestCall | undefined): AuthInfo | undefined {
    const cn = call?.getAuthContext?.().sslPeerCertificate?.subject?.CN;
    const name = Array.isArray(cn) ? cn[0] : cn;
    return name ? { username: name, revision: this.store.revision } : undefined;
  }

  /**
   * Who proposes a request whose rights the apply step checks even without a token (a lease
   * revoke): nothing with auth off, otherwise the caller, anonymous when it sent no token.
   */
  proposerOf(meta: RequestMetadata | undefined, call?: RequestCall): RequestAuthInfo | undefined {
    const info = this.infoFrom(meta, call);
    if (!this.store.enabled) return undefined;
    return toRequestAuthInfo(info ?? { username: '', revision: 0 });
  }

  /**
   * Why a watch on [key, rangeEnd) may not be created for this caller, in the words etcd 3.4
   * puts in the refused watch's cancel_reason; undefined when it may.
   */
  watchRefusal(
    meta: RequestMetadata | undefined,
    call: RequestCall | undefined,
    key: Buffer,
    rangeEnd: Buffer | undefined,
  ): string | undefined {
    try {
      const info = this.resolve(meta, call);
      if (this.store.enabled) this.store.checkRange(info ?? { username: '', revision: 0 }, key, rangeEnd);
      return undefined;
    } catch (err) {
      const e = fromAuthError(err);
      if (!(e instanceof EtcdError)) throw e;
      return `rpc error: code = ${GO_CODE_NAMES[e.code]} desc = ${e.message}`;
    }
  }

  /** etcd's check for admin-only calls (membership): the root role, once auth is on. */
  checkAdmin(info: AuthInfo | undefined): void {
    try {
      this.store.checkAdmin(info);
    } catch (err) {
      throw fromAuthError(err);
    }
  }

  /** The same check as etcd 3.4's Maintenance service answers it (raw "auth: ..." text). */
  checkMaintenanceAdmin(meta: RequestMetadata | undefined, call?: RequestCall): void {
    try {
      const info = this.resolve(meta, call);
      if (this.store.enabled) this.store.checkAdmin(info);
    } catch (err) {
      throw fromAuthErrorRaw(err);
    }
  }

  /**
   * Checks the password here (bcrypt, asynchronously), then logs the login in so every member
   * holds the token; retried when the auth store changed meanwhile, as etcd does.
   */
  async authenticate(req: a.AuthenticateRequest): Promise<a.AuthResponse> {
    await this.readIndex();
    const name = req.name ?? '';
    for (;;) {
      let checked: { hash: string; revision: number };
      try {
        checked = this.store.passwordHashOf(name);
      } catch (err) {
        throw fromAuthError(err);
      }
      if (!(await checkPassword(req.password ?? '', checked.hash)))
        throw fromAuthError(authError('auth-failed'));
      const res = await this.submit({ authenticate: { name, simple_token_prefix: newTokenPrefix() } });
      if (checked.revision === this.store.revision) return res;
    }
  }

  async userAdd(req: a.AuthUserAddRequest, info: AuthInfo | undefined): Promise<a.AuthResponse> {
    const noPassword = !!req.options?.no_password;
    const hashed = noPassword ? '' : await hashPassword(req.password ?? '', this.bcryptCost);
    return this.propose(
      { auth_user_add: { name: req.name ?? '', hashed_password: hashed, no_password: noPassword } },
      info,
    );
  }

  async userChangePassword(
    req: a.AuthUserChangePasswordRequest,
    info: AuthInfo | undefined,
  ): Promise<a.AuthResponse> {
    const hashed = await hashPassword(req.password ?? '', this.bcryptCost);
    return this.propose(
      { auth_user_change_password: { name: req.name ?? '', hashed_password: hashed } },
      info,
    );
  }

  /** Any other auth request: proposed as it came, with who sent it. */
  propose(
    req: Omit<InternalRequest, 'id' | 'auth_info'>,
    info: AuthInfo | undefined,
  ): Promise<a.AuthResponse> {
    return this.submit({ ...req, auth_info: toRequestAuthInfo(info) });
  }
}

function firstString(meta: RequestMetadata | undefined, key: string): string | undefined {
  const v = meta?.get(key)?.[0];
  if (v === undefined) return undefined;
  return Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
}
