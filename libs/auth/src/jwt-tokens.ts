import { readFileSync } from 'node:fs';
import * as jwt from 'jsonwebtoken';
import { AuthInfo } from './auth-store';
import { TokenProvider } from './tokens';

export const JWT_SIGN_METHODS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'HS256',
  'HS384',
  'HS512',
] as const;
export type JwtSignMethod = (typeof JWT_SIGN_METHODS)[number];

export interface JwtOptions {
  signMethod: JwtSignMethod;
  /** PEM of the public key (asymmetric methods), or the shared secret (HS*). */
  publicKey: Buffer;
  /** Absent: this member verifies tokens but cannot issue them. */
  privateKey?: Buffer;
  ttlMs: number;
}

/**
 * etcd's JWT tokens: signed claims `username`, `revision` and `exp`, verifiable by every member
 * holding the public key, so they survive restarts and work on any member until they expire.
 */
export class JwtTokenProvider implements TokenProvider {
  constructor(private readonly opts: JwtOptions) {}

  static fromFiles(
    signMethod: JwtSignMethod,
    pubKeyPath: string,
    privKeyPath: string | undefined,
    ttlMs: number,
  ) {
    const read = (what: string, path: string) => {
      try {
        return readFileSync(path);
      } catch (err) {
        throw new Error(`failed to read JWT ${what} ${path}: ${(err as Error).message}`, { cause: err });
      }
    };
    const publicKey = read('public key', pubKeyPath);
    const privateKey = privKeyPath ? read('private key', privKeyPath) : undefined;
    const provider = new JwtTokenProvider({ signMethod, publicKey, privateKey, ttlMs });
    provider.selfCheck();
    return provider;
  }

  assign(username: string, revision: number): string {
    if (!this.opts.privateKey) throw new Error('this member has no JWT private key to sign tokens with');
    const exp = Math.floor((Date.now() + this.opts.ttlMs) / 1000);
    return jwt.sign({ username, revision, exp }, this.opts.privateKey, {
      algorithm: this.opts.signMethod,
      noTimestamp: true, // etcd's claims are username, revision and exp only
    });
  }

  info(token: string): AuthInfo | undefined {
    try {
      const key = this.opts.signMethod.startsWith('HS')
        ? (this.opts.privateKey ?? this.opts.publicKey)
        : this.opts.publicKey;
      const claims = jwt.verify(token, key, { algorithms: [this.opts.signMethod] });
      if (
        typeof claims !== 'object' ||
        typeof claims.username !== 'string' ||
        typeof claims.revision !== 'number'
      )
        return undefined;
      return { username: claims.username, revision: claims.revision };
    } catch {
      return undefined;
    }
  }

  invalidateUser(): void {
    // A signed token cannot be recalled; its revision claim goes stale instead.
  }

  disable(): void {}

  stop(): void {}

  /** Fails at start, with the reason, when the keys do not fit the sign method. */
  private selfCheck(): void {
    if (!this.opts.privateKey) return;
    let token: string;
    try {
      token = jwt.sign({ username: '', revision: 0 }, this.opts.privateKey, {
        algorithm: this.opts.signMethod,
      });
    } catch (err) {
      throw new Error(
        `JWT private key does not suit sign-method ${this.opts.signMethod}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    if (!this.info(token))
      throw new Error('JWT public key does not verify tokens signed with the private key');
  }
}
