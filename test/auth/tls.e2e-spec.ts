// Client TLS: https:// listeners next to plain ones, CA-verified server certificates, client
// certificates under --client-cert-auth (their common name is the user when auth is on),
// --auto-tls, and clear refusals for missing files. Driven with etcdctl's --cacert/--cert/--key;
// the certificate-as-user rules are checked against etcd 3.4 started with the same files.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as selfsigned from 'selfsigned';
import { etcdctl } from '../etcdctl/ctl';
import { MemberKind, MemberProcess, freePort, startMember } from '../support/members';

jest.setTimeout(180_000);

const dir = mkdtempSync(join(tmpdir(), 'cairn-tls-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const paths: Record<string, string> = {};

beforeAll(async () => {
  const ca = await selfsigned.generate([{ name: 'commonName', value: 'cairn test CA' }], {
    keyType: 'ec',
    algorithm: 'sha256', // Go refuses SHA-1 signatures
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  paths.ca = file('ca.pem', ca.cert);
  const otherCa = await selfsigned.generate([{ name: 'commonName', value: 'another CA' }], {
    keyType: 'ec',
    algorithm: 'sha256',
  });
  paths.otherCa = file('other-ca.pem', otherCa.cert);
  const issue = async (name: string, cn: string, server: boolean) => {
    const pems = await selfsigned.generate([{ name: 'commonName', value: cn }], {
      keyType: 'ec',
      algorithm: 'sha256', // Go refuses SHA-1 signatures
      ca: { key: ca.private, cert: ca.cert },
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
        { name: 'extKeyUsage', serverAuth: server, clientAuth: true },
        ...(server
          ? [{ name: 'subjectAltName' as const, altNames: [{ type: 7 as const, ip: '127.0.0.1' }] }]
          : []),
      ],
    });
    paths[`${name}Cert`] = file(`${name}.pem`, pems.cert);
    paths[`${name}Key`] = file(`${name}-key.pem`, pems.private);
  };
  await issue('server', 'server', true);
  await issue('root', 'root', false);
  await issue('alice', 'alice', false);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface TlsMember {
  member: MemberProcess;
  tls: string;
  plain: string;
}

async function startTls(kind: MemberKind, extra: string[]): Promise<TlsMember> {
  const ports = { client: await freePort(), peer: await freePort() };
  const plainPort = await freePort();
  const tls = `127.0.0.1:${ports.client}`;
  const plain = `127.0.0.1:${plainPort}`;
  const member = await startMember(kind, {
    ports,
    extraArgs: [
      '--listen-client-urls',
      `https://${tls},http://${plain}`,
      '--advertise-client-urls',
      `https://${tls}`,
      ...extra,
    ],
  });
  return { member, tls, plain };
}

const ctl = (endpoint: string, args: string[], input?: string) => etcdctl(endpoint, args, input);
const lastLine = (s: string) => s.trim().split('\n').pop();

describe('https and http listeners side by side', () => {
  let m: TlsMember;
  beforeAll(async () => {
    m = await startTls('cairn', ['--cert-file', paths.serverCert, '--key-file', paths.serverKey]);
  });
  afterAll(() => m?.member.stop());

  it('serves TLS to clients that trust the CA, and plain text on the http URL only', async () => {
    const put = await ctl(m.tls, ['--cacert', paths.ca, 'put', 'k', 'secure']);
    expect(put).toMatchObject({ code: 0, stdout: 'OK\n' });
    expect((await ctl(m.plain, ['get', 'k'])).stdout).toBe('k\nsecure\n');
    // A client that does not trust the certificate, or speaks plain text to the TLS port, fails.
    expect((await ctl(m.tls, ['--command-timeout=3s', '--cacert', paths.otherCa, 'get', 'k'])).code).not.toBe(
      0,
    );
    expect((await ctl(m.tls, ['--command-timeout=3s', 'get', 'k'])).code).not.toBe(0);
  });
});

describe('--client-cert-auth', () => {
  const flags = () => [
    '--cert-file',
    paths.serverCert,
    '--key-file',
    paths.serverKey,
    '--trusted-ca-file',
    paths.ca,
    '--client-cert-auth',
  ];
  const as = (who: 'root' | 'alice') => [
    '--cacert',
    paths.ca,
    '--cert',
    paths[`${who}Cert`],
    '--key',
    paths[`${who}Key`],
  ];

  /** The same steps on one member; returns what an observer must see identical on both. */
  async function scenario(m: TlsMember): Promise<string[]> {
    const out: string[] = [];
    const run = async (args: string[], input?: string) => {
      const r = await ctl(m.tls, args, input);
      out.push(`${args.join(' ')} => ${r.code} ${r.stdout.trim()} ${r.code ? lastLine(r.stderr) : ''}`);
      return r;
    };
    const noCert = await ctl(m.tls, ['--command-timeout=3s', '--cacert', paths.ca, 'get', 'k']);
    out.push(`no client certificate => ${noCert.code === 0 ? 'served' : 'refused'}`);
    await run([...as('root'), 'user', 'add', 'root:rootpw']);
    await run([...as('root'), 'user', 'add', 'alice:alicepw']);
    await run([...as('root'), 'role', 'add', 'r']);
    await run([...as('root'), 'role', 'grant-permission', 'r', 'readwrite', 'a/', '--prefix']);
    await run([...as('root'), 'user', 'grant-role', 'alice', 'r']);
    await run([...as('root'), 'auth', 'enable']);
    // Without a token the certificate's common name is the user.
    await run([...as('alice'), 'put', 'a/1', 'x']);
    await run([...as('alice'), 'get', 'a/1']);
    await run([...as('alice'), 'put', 'b', 'x']);
    await run([...as('alice'), 'user', 'list']);
    await run([...as('root'), 'user', 'list']);
    await run([...as('root'), 'put', 'b', 'y']);
    // A token, when given, wins over the certificate.
    await run([...as('root'), '--user', 'alice:alicepw', 'put', 'b', 'z']);
    return out;
  }

  it('refuses clients without a certificate and takes the CN as the user, as etcd does', async () => {
    const results: string[][] = [];
    for (const kind of ['etcd', 'cairn'] as const) {
      const m = await startTls(kind, flags());
      try {
        results.push(await scenario(m));
      } finally {
        await m.member.stop();
      }
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[1][0]).toBe('no client certificate => refused');
    expect(results[1].some((l) => l.includes('etcdserver: permission denied'))).toBe(true);
  });
});

describe('--auto-tls', () => {
  it('serves TLS with a certificate generated at start', async () => {
    const m = await startTls('cairn', ['--auto-tls']);
    try {
      const r = await ctl(m.tls, [
        '--insecure-transport=false',
        '--insecure-skip-tls-verify',
        'put',
        'k',
        'v',
      ]);
      expect(r).toMatchObject({ code: 0, stdout: 'OK\n' });
      // The certificate is not signed by any CA the client knows.
      expect((await ctl(m.tls, ['--command-timeout=3s', '--cacert', paths.ca, 'get', 'k'])).code).not.toBe(0);
    } finally {
      await m.member.stop();
    }
  });
});

describe('bad TLS configuration', () => {
  const cases: [string, () => string[], RegExp][] = [
    [
      'a missing certificate file',
      () => ['--cert-file', join(dir, 'missing.pem'), '--key-file', paths.serverKey],
      /cannot read --cert-file .*missing\.pem/,
    ],
    [
      'a key that does not match the certificate',
      () => ['--cert-file', paths.serverCert, '--key-file', paths.aliceKey],
      /invalid client TLS certificate/,
    ],
    [
      'an https URL without a certificate',
      () => [],
      /TLS key\/cert \(--cert-file, --key-file\) must be provided for client url https:\/\/127\.0\.0\.1:\d+ with HTTPS scheme/,
    ],
  ];
  it.each(cases)('refuses to start with %s', async (_what, extra, message) => {
    await expect(startTls('cairn', extra())).rejects.toThrow(message);
  });
});
