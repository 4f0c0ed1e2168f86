// JWT tokens (--auth-token jwt,...): signed, so they outlive a restart; a forged or expired one
// gets etcd's invalid auth token error. Simple tokens die with the member that issued them.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemberProcess, startMember } from '../support/members';
import { AuthClient, connectAuth, outcome } from './auth-client';

jest.setTimeout(120_000);

const b = (s: string) => Buffer.from(s);
const keyDir = mkdtempSync(join(tmpdir(), 'cairn-jwt-'));
const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pubPath = join(keyDir, 'jwt.pub');
const privPath = join(keyDir, 'jwt.key');
writeFileSync(pubPath, publicKey.export({ type: 'spki', format: 'pem' }));
writeFileSync(privPath, privateKey.export({ type: 'pkcs8', format: 'pem' }));

const jwtFlag = (ttl: string) => [
  '--auth-token',
  `jwt,pub-key=${pubPath},priv-key=${privPath},sign-method=RS256,ttl=${ttl}`,
  '--bcrypt-cost',
  '4',
];

const INVALID_TOKEN = { error: { code: 16, details: 'etcdserver: invalid auth token' } };

async function enableAuth(c: AuthClient): Promise<void> {
  await c.auth('UserAdd', { name: 'root', password: 'rootpw' });
  await c.auth('UserGrantRole', { user: 'root', role: 'root' });
  await c.auth('AuthEnable');
}

const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());

describe('jwt tokens', () => {
  let member: MemberProcess;
  let client: AuthClient;

  afterAll(async () => {
    client?.close();
    await member?.stop();
  });

  it('carry etcd claims, survive a restart and refuse forgery', async () => {
    member = await startMember('cairn', { extraArgs: jwtFlag('5m') });
    client = connectAuth(member.endpoint);
    await enableAuth(client);
    const { token } = await client.auth('Authenticate', { name: 'root', password: 'rootpw' });
    const claims = claimsOf(token);
    expect(Object.keys(claims).sort()).toEqual(['exp', 'revision', 'username']);
    expect(claims.username).toBe('root');
    expect((await outcome(client.kv('Put', { key: b('k'), value: b('v') }, token))).ok).toBeDefined();

    // Signed by the member's key: still valid after a restart (a simple token would not be).
    client.close();
    member = await member.restart();
    client = connectAuth(member.endpoint);
    const res = await client.kv('Range', { key: b('k') }, token);
    expect(res.kvs.map((kv: any) => kv.value.toString())).toEqual(['v']);

    // The same claims with a different user, keeping the signature: refused.
    const [header, , signature] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...claims, username: 'someone' })).toString('base64url');
    expect(await outcome(client.kv('Range', { key: b('k') }, `${header}.${forged}.${signature}`))).toEqual(
      INVALID_TOKEN,
    );
    // Signed by another key: refused.
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const { sign } = await import('jsonwebtoken');
    const foreign = sign({ username: 'root', revision: claims.revision, exp: claims.exp }, other, {
      algorithm: 'RS256',
      noTimestamp: true,
    });
    expect(await outcome(client.kv('Range', { key: b('k') }, foreign))).toEqual(INVALID_TOKEN);
  });

  it('expire after their ttl', async () => {
    const short = await startMember('cairn', { extraArgs: jwtFlag('1s') });
    const c = connectAuth(short.endpoint);
    try {
      await enableAuth(c);
      const { token } = await c.auth('Authenticate', { name: 'root', password: 'rootpw' });
      expect(claimsOf(token).exp).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 1);
      await new Promise((r) => setTimeout(r, 2500));
      expect(await outcome(c.kv('Range', { key: b('k') }, token))).toEqual(INVALID_TOKEN);
    } finally {
      c.close();
      await short.stop();
    }
  });

  it('refuse to start with a key file that is missing', async () => {
    const flag = `jwt,pub-key=${join(keyDir, 'missing.pub')},priv-key=${privPath},sign-method=RS256`;
    await expect(
      startMember('cairn', { extraArgs: ['--auth-token', flag], readyTimeoutMs: 20_000 }),
    ).rejects.toThrow(/failed to read JWT public key .*missing\.pub/);
  });
});

describe('simple tokens', () => {
  it('are forgotten by a restarted member', async () => {
    let m = await startMember('cairn', { extraArgs: ['--bcrypt-cost', '4'] });
    let c = connectAuth(m.endpoint);
    try {
      await enableAuth(c);
      const { token } = await c.auth('Authenticate', { name: 'root', password: 'rootpw' });
      expect(token).toMatch(/^[a-zA-Z]{16}\.\d+$/);
      expect((await outcome(c.kv('Range', { key: b('k') }, token))).ok).toBeDefined();
      c.close();
      m = await m.restart();
      c = connectAuth(m.endpoint);
      expect(await outcome(c.kv('Range', { key: b('k') }, token))).toEqual(INVALID_TOKEN);
      // The users, roles and enabled flag came back from disk.
      const fresh = await c.auth('Authenticate', { name: 'root', password: 'rootpw' });
      expect((await outcome(c.kv('Range', { key: b('k') }))).error.details).toBe(
        'etcdserver: user name is empty',
      );
      expect((await c.auth('UserGet', { name: 'root' }, fresh.token)).roles).toEqual(['root']);
    } finally {
      c.close();
      await m.stop();
    }
  });
});
