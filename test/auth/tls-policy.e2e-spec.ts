// Client TLS policy beyond the certificate itself: a trusted CA file alone requires client
// certificates (as --client-cert-auth does), --client-crl-file refuses revoked client
// certificates, --cipher-suites limits the TLS 1.2 suites a client may negotiate, and
// --client-cert-allowed-hostname refuses client certificates not valid for that name. Each is
// run against etcd 3.4 started with the same files and must end the same way.
import { readFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { etcdctl } from '../etcdctl/ctl';
import { MemberKind, MemberProcess, freePort, startMember } from '../support/members';
import { IssuedCert, TestCa, TestPki } from '../support/pki';

jest.setTimeout(180_000);

const pki = new TestPki();
let ca: TestCa;
let server: IssuedCert;
let good: IssuedCert;
let revoked: IssuedCert;
let named: IssuedCert;
let crl: string;

beforeAll(() => {
  ca = pki.ca('ca');
  server = ca.issue('server', { cn: 'server', ips: ['127.0.0.1'] });
  good = ca.issue('good', { cn: 'good' });
  revoked = ca.issue('revoked', { cn: 'revoked' });
  named = ca.issue('named', { cn: 'named', dns: ['client.cairn.test'] });
  ca.revoke(revoked.cert);
  crl = ca.crl('crl');
});

afterAll(() => pki.remove());

/** A member whose only client URL is https://127.0.0.1:<port>. */
async function startHttps(kind: MemberKind, extra: string[]): Promise<MemberProcess> {
  const ports = { client: await freePort(), peer: await freePort() };
  const url = `https://127.0.0.1:${ports.client}`;
  // prettier-ignore
  return startMember(kind, {
    ports,
    extraArgs: [
      '--listen-client-urls', url, '--advertise-client-urls', url,
      '--cert-file', server.cert, '--key-file', server.key, ...extra,
    ],
  });
}

/** Starts etcd then Cairn with `flags`, runs `scenario` on each, and returns both outcomes. */
async function onBoth<T>(flags: string[], scenario: (m: MemberProcess) => Promise<T>): Promise<[T, T]> {
  const out: T[] = [];
  for (const kind of ['etcd', 'cairn'] as const) {
    const m = await startHttps(kind, flags);
    try {
      out.push(await scenario(m));
    } finally {
      await m.stop();
    }
  }
  return [out[0], out[1]];
}

/** Whether etcdctl presenting `who` may put and get a key. */
async function served(m: MemberProcess, who: IssuedCert): Promise<string> {
  const tls = ['--command-timeout=5s', '--cacert', ca.cert, '--cert', who.cert, '--key', who.key];
  const put = await etcdctl(m.endpoint, [...tls, 'put', 'k', 'v']);
  if (put.code !== 0) return 'refused';
  const get = await etcdctl(m.endpoint, [...tls, 'get', 'k', '--print-value-only']);
  return get.code === 0 ? `served ${get.stdout.trim()}` : 'refused';
}

const certAuth = () => ['--trusted-ca-file', ca.cert, '--client-cert-auth'];

describe('--trusted-ca-file without --client-cert-auth', () => {
  it('still requires a client certificate signed by the CA, as etcd does', async () => {
    const stranger = pki.ca('stranger').issue('stranger', { cn: 'good' });
    const [etcd, cairn] = await onBoth(['--trusted-ca-file', ca.cert], async (m) => ({
      good: await served(m, good),
      stranger: await served(m, stranger),
      none: (await etcdctl(m.endpoint, ['--command-timeout=5s', '--cacert', ca.cert, 'get', 'k'])).code === 0,
    }));
    expect(cairn).toEqual({ good: 'served v', stranger: 'refused', none: false });
    expect(cairn).toEqual(etcd);
  });
});

describe('--client-crl-file', () => {
  it('refuses a revoked client certificate and serves a good one, as etcd does', async () => {
    const [etcd, cairn] = await onBoth([...certAuth(), '--client-crl-file', crl], async (m) => ({
      good: await served(m, good),
      revoked: await served(m, revoked),
    }));
    expect(cairn).toEqual({ good: 'served v', revoked: 'refused' });
    expect(cairn).toEqual(etcd);
  });

  it('stops the member with the reason when the CRL file is missing', async () => {
    await expect(
      startHttps('cairn', [...certAuth(), '--client-crl-file', `${pki.dir}/none.pem`]),
    ).rejects.toThrow(/cannot read --client-crl-file .*none\.pem/);
  });
});

/** The TLS 1.2 handshake a client offering only `cipher` (OpenSSL name) gets: the suite, or 'refused'. */
function handshake(endpoint: string, cipher: string): Promise<string> {
  const [host, port] = endpoint.split(':');
  return new Promise((done) => {
    const socket = connect({
      host,
      port: Number(port),
      ca: [readFileSync(ca.cert)],
      ALPNProtocols: ['h2'],
      maxVersion: 'TLSv1.2',
      ciphers: cipher,
    });
    socket.once('secureConnect', () => {
      done(socket.getCipher().name);
      socket.destroy();
    });
    socket.once('error', () => done('refused'));
  });
}

describe('--cipher-suites', () => {
  it('refuses a TLS 1.2 client offering only a suite outside the list, as etcd does', async () => {
    const flags = [
      '--cipher-suites',
      'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
    ];
    const [etcd, cairn] = await onBoth(flags, async (m) => ({
      listed: await handshake(m.endpoint, 'ECDHE-ECDSA-AES128-GCM-SHA256'),
      unlisted: await handshake(m.endpoint, 'ECDHE-ECDSA-AES256-GCM-SHA384'),
      client: await served(m, good),
    }));
    expect(cairn).toEqual({
      listed: 'ECDHE-ECDSA-AES128-GCM-SHA256',
      unlisted: 'refused',
      client: 'served v',
    });
    expect(cairn).toEqual(etcd);
  });

  it('leaves every suite to a member started without the flag', async () => {
    const m = await startHttps('cairn', []);
    try {
      expect(await handshake(m.endpoint, 'ECDHE-ECDSA-AES256-GCM-SHA384')).toBe(
        'ECDHE-ECDSA-AES256-GCM-SHA384',
      );
    } finally {
      await m.stop();
    }
  });
});

describe('--client-cert-allowed-hostname', () => {
  it('serves only client certificates valid for the name, as etcd does', async () => {
    const flags = [...certAuth(), '--client-cert-allowed-hostname', 'client.cairn.test'];
    const [etcd, cairn] = await onBoth(flags, async (m) => ({
      named: await served(m, named),
      other: await served(m, good),
    }));
    expect(cairn).toEqual({ named: 'served v', other: 'refused' });
    expect(cairn).toEqual(etcd);
  });
});
