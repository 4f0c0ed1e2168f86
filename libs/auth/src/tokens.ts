import { randomInt } from 'node:crypto';
import { AuthInfo } from './auth-store';

/** Hands out tokens to authenticated users and tells who a token belongs to. */
export interface TokenProvider {
  /**
   * A new token for `username` at auth revision `revision`. `prefix` is the random part the
   * proposing member chose and `index` the log index of the login: every member applying the
   * login makes the same simple token.
   */
  assign(username: string, revision: number, prefix: string, index: number): string;
  /** Who `token` names, or undefined when it is unknown, expired or forged. */
  info(token: string, currentRevision: number): AuthInfo | undefined;
  /** Forgets every token of `username` (deleted, or its password changed). */
  invalidateUser(username: string): void;
  /** Forgets every token (auth disabled). */
  disable(): void;
  stop(): void;
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** etcd's simple token prefix: 16 random letters. */
export function newTokenPrefix(): string {
  let out = '';
  for (let i = 0; i < 16; i++) out += LETTERS[randomInt(LETTERS.length)];
  return out;
}

/**
 * etcd's "simple" tokens: opaque `<prefix>.<index>` strings kept in memory, each valid for `ttl`
 * seconds since it was last used. They do not survive a restart; the client re-authenticates.
 */
export class SimpleTokenProvider implements TokenProvider {
  private readonly tokens = new Map<string, { username: string; expiresAt: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.sweeper = setInterval(() => this.sweep(), Math.max(1000, Math.min(ttlMs, 60_000)));
    this.sweeper.unref();
  }

  assign(username: string, _revision: number, prefix: string, index: number): string {
    const token = `${prefix}.${index}`;
    this.tokens.set(token, { username, expiresAt: this.now() + this.ttlMs });
    return token;
  }

  info(token: string, currentRevision: number): AuthInfo | undefined {
    const entry = this.tokens.get(token);
    if (!entry) return undefined;
    const now = this.now();
    if (entry.expiresAt <= now) {
      this.tokens.delete(token);
      return undefined;
    }
    entry.expiresAt = now + this.ttlMs; // used: live for another TTL, as etcd does
    return { username: entry.username, revision: currentRevision };
  }

  invalidateUser(username: string): void {
    for (const [token, entry] of this.tokens) if (entry.username === username) this.tokens.delete(token);
  }

  disable(): void {
    this.tokens.clear();
  }

  stop(): void {
    clearInterval(this.sweeper);
  }

  private sweep(): void {
    const now = this.now();
    for (const [token, entry] of this.tokens) if (entry.expiresAt <= now) this.tokens.delete(token);
  }
}
