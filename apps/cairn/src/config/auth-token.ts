import { JWT_SIGN_METHODS, JwtSignMethod } from '../../../../libs/auth/src';
import { parseGoDuration } from './go-values';

/** --auth-token resolved: etcd's `simple`, or `jwt,pub-key=...,priv-key=...,sign-method=...,ttl=...`. */
export type AuthTokenSpec =
  | { type: 'simple' }
  | { type: 'jwt'; signMethod: JwtSignMethod; publicKeyFile: string; privateKeyFile?: string; ttlMs: number };

/** etcd's default JWT lifetime when `ttl` is not given. */
const DEFAULT_JWT_TTL_MS = 5 * 60 * 1000;

export function parseAuthToken(s: string): AuthTokenSpec {
  const [type, ...opts] = s.split(',');
  if (type === 'simple' && opts.length === 0) return { type: 'simple' };
  if (type !== 'jwt')
    throw new Error(`--auth-token: unknown token type ${JSON.stringify(type)} (simple or jwt)`);
  const o = new Map<string, string>();
  for (const kv of opts) {
    const eq = kv.indexOf('=');
    if (eq < 0) throw new Error(`--auth-token: option ${JSON.stringify(kv)} is not key=value`);
    o.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  for (const k of o.keys())
    if (!['pub-key', 'priv-key', 'sign-method', 'ttl'].includes(k))
      throw new Error(`--auth-token: unknown jwt option ${JSON.stringify(k)}`);
  const signMethod = o.get('sign-method');
  if (!signMethod || !(JWT_SIGN_METHODS as readonly string[]).includes(signMethod))
    throw new Error(`--auth-token: jwt needs sign-method, one of ${JWT_SIGN_METHODS.join(', ')}`);
  const publicKeyFile = o.get('pub-key') ?? (signMethod.startsWith('HS') ? o.get('priv-key') : undefined);
  if (!publicKeyFile) throw new Error('--auth-token: jwt needs pub-key');
  let ttlMs = DEFAULT_JWT_TTL_MS;
  if (o.has('ttl')) {
    ttlMs = parseGoDuration(o.get('ttl')!);
    if (!(ttlMs > 0)) throw new Error(`--auth-token: jwt ttl must be positive (got ${o.get('ttl')})`);
  }
  return {
    type: 'jwt',
    signMethod: signMethod as JwtSignMethod,
    publicKeyFile,
    privateKeyFile: o.get('priv-key'),
    ttlMs,
  };
}
