import { generateKeyPairSync } from 'node:crypto';
import { JwtTokenProvider } from './jwt-tokens';
import { checkPassword, hashPassword } from './password';
import { SimpleTokenProvider } from './tokens';

describe('SimpleTokenProvider', () => {
  it('keeps a token alive for a TTL after its last use', () => {
    let now = 1_000_000;
    const p = new SimpleTokenProvider(300_000, () => now);
    const token = p.assign('u', 5, 'abcdefghijklmnop', 42);
    expect(token).toBe('abcdefghijklmnop.42');
    now += 200_000;
    expect(p.info(token, 9)).toEqual({ username: 'u', revision: 9 });
    now += 200_000; // 400 s after login, 200 s after the last use
    expect(p.info(token, 9)?.username).toBe('u');
    now += 300_000;
    expect(p.info(token, 9)).toBeUndefined();
    p.stop();
  });

  it('forgets the tokens of a user whose password changed, and all on disable', () => {
    const p = new SimpleTokenProvider(300_000);
    const a = p.assign('a', 1, 'aaaaaaaaaaaaaaaa', 1);
    const b = p.assign('b', 1, 'bbbbbbbbbbbbbbbb', 2);
    p.invalidateUser('a');
    expect(p.info(a, 1)).toBeUndefined();
    expect(p.info(b, 1)?.username).toBe('b');
    p.disable();
    expect(p.info(b, 1)).toBeUndefined();
    p.stop();
  });
});

describe('JwtTokenProvider', () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pub = Buffer.from(publicKey.export({ type: 'spki', format: 'pem' }));
  const priv = Buffer.from(privateKey.export({ type: 'pkcs8', format: 'pem' }));

  it('signs username and revision, verifiable with the public key alone', () => {
    const signer = new JwtTokenProvider({
      signMethod: 'RS256',
      publicKey: pub,
      privateKey: priv,
      ttlMs: 60_000,
    });
    const verifier = new JwtTokenProvider({ signMethod: 'RS256', publicKey: pub, ttlMs: 60_000 });
    const token = signer.assign('alice', 7);
    expect(verifier.info(token)).toEqual({ username: 'alice', revision: 7 });
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
    expect(Object.keys(claims).sort()).toEqual(['exp', 'revision', 'username']);
  });

  it('refuses a tampered or expired token', () => {
    const p = new JwtTokenProvider({ signMethod: 'RS256', publicKey: pub, privateKey: priv, ttlMs: 60_000 });
    const [h, , sig] = p.assign('alice', 7).split('.');
    const forged = Buffer.from(JSON.stringify({ username: 'root', revision: 7, exp: 9e9 })).toString(
      'base64url',
    );
    expect(p.info(`${h}.${forged}.${sig}`)).toBeUndefined();
    const expired = new JwtTokenProvider({
      signMethod: 'RS256',
      publicKey: pub,
      privateKey: priv,
      ttlMs: -5_000,
    });
    expect(p.info(expired.assign('alice', 7))).toBeUndefined();
  });
});

describe('passwords', () => {
  it('hashes with bcrypt at the given cost and checks', async () => {
    const hash = await hashPassword('secret', 4);
    expect(hash).toMatch(/^\$2[aby]\$04\$/);
    expect(await checkPassword('secret', hash)).toBe(true);
    expect(await checkPassword('wrong', hash)).toBe(false);
    expect(await checkPassword('secret', '')).toBe(false);
  });

  it('answers many concurrent logins, each with its own result', async () => {
    const hashes = await Promise.all(['a', 'b', 'c', 'd', 'e', 'f'].map((p) => hashPassword(p, 4)));
    const checks = await Promise.all(
      hashes.flatMap((h, i) => [checkPassword('abcdef'[i], h), checkPassword('abcdef'[(i + 1) % 6], h)]),
    );
    expect(checks).toEqual(hashes.flatMap(() => [true, false]));
  });

  it('a malformed stored hash never matches', async () => {
    expect(await checkPassword('secret', 'not-a-bcrypt-hash')).toBe(false);
  });
});
