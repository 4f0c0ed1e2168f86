// etcdctl's user, role and auth commands against a TLS cluster: three members on https:// client
// and peer URLs, client certificates required (--client-cert-auth), every call made with
// etcdctl's --cacert/--cert/--key and spread over the members. The same sequence runs against a
// 3-member etcd 3.4 cluster started with the same flags and certificates; every answer (exit
// code, output, error line) must be the same.
import { etcdctl, normalize } from '../etcdctl/ctl';
import { FAST_RAFT, MemberKind, MemberProcess, allStarted, freePort, startMember } from '../support/members';
import { IssuedCert, TestCa, TestPki } from '../support/pki';

jest.setTimeout(240_000);

const pki = new TestPki();
let ca: TestCa;
let memberCerts: IssuedCert[];
/** Client certificates: the CN is the user etcd takes when no token is sent. */
let rootClient: IssuedCert;
let aliceClient: IssuedCert;

beforeAll(() => {
  ca = pki.ca('ca');
  memberCerts = [1, 2, 3].map((i) => ca.issue(`m${i}`, { cn: 'member', ips: ['127.0.0.1'] }));
  rootClient = ca.issue('root-client', { cn: 'root' });
  aliceClient = ca.issue('alice-client', { cn: 'alice' });
});

afterAll(() => pki.remove());

async function startTlsCluster(kind: MemberKind): Promise<MemberProcess[]> {
  const ports = await Promise.all(
    [1, 2, 3].map(async () => ({ client: await freePort(), peer: await freePort() })),
  );
  const peerUrl = (i: number) => `https://127.0.0.1:${ports[i].peer}`;
  const initialCluster = ports.map((_, i) => `m${i + 1}=${peerUrl(i)}`).join(',');
  return allStarted(
    ports.map((p, i) =>
      startMember(kind, {
        name: `m${i + 1}`,
        ports: p,
        initialCluster,
        clientScheme: 'https',
        peerUrls: { listen: peerUrl(i), advertised: peerUrl(i) },
        // prettier-ignore
        extraArgs: [
          ...FAST_RAFT, '--initial-cluster-state', 'new', '--initial-cluster-token', 'tls-auth',
          '--bcrypt-cost', '4',
          '--cert-file', memberCerts[i].cert, '--key-file', memberCerts[i].key,
          '--trusted-ca-file', ca.cert, '--client-cert-auth',
          '--peer-cert-file', memberCerts[i].cert, '--peer-key-file', memberCerts[i].key,
          '--peer-trusted-ca-file', ca.cert, '--peer-client-cert-auth',
        ],
      }),
    ),
  );
}

/** The commands, in order: [member index, client certificate, etcdctl arguments]. */
const SEQUENCE: [number, () => IssuedCert, string[]][] = [
  [0, () => rootClient, ['user', 'add', 'root', '--new-user-password=root-pw']],
  [1, () => rootClient, ['role', 'add', 'reader']],
  [2, () => rootClient, ['role', 'grant-permission', 'reader', 'read', '/app/', '--prefix']],
  [0, () => rootClient, ['user', 'add', 'alice', '--new-user-password=alice-pw']],
  [1, () => rootClient, ['user', 'grant-role', 'alice', 'reader']],
  [2, () => rootClient, ['auth', 'enable']],
  // A token (--user) and a certificate both sent: the token's user acts.
  [0, () => aliceClient, ['--user', 'root:root-pw', 'put', '/app/config', 'v1']],
  [1, () => aliceClient, ['--user', 'alice:alice-pw', 'get', '/app/config']],
  [2, () => aliceClient, ['--user', 'alice:alice-pw', 'put', '/app/config', 'v2']],
  [0, () => rootClient, ['--user', 'alice:wrong-pw', 'get', '/app/config']],
  // No token: the certificate's CN is the user.
  [1, () => aliceClient, ['get', '/app/config']],
  [2, () => aliceClient, ['put', '/app/config', 'v3']],
  [0, () => aliceClient, ['user', 'list']],
  [1, () => rootClient, ['user', 'list']],
  [2, () => rootClient, ['role', 'get', 'reader']],
  [0, () => rootClient, ['user', 'get', 'alice']],
  [1, () => rootClient, ['role', 'revoke-permission', 'reader', '/app/', '--prefix']],
  [2, () => aliceClient, ['get', '/app/config']],
  [0, () => rootClient, ['auth', 'disable']],
  [1, () => aliceClient, ['put', '/app/config', 'v4']],
  [2, () => aliceClient, ['get', '/app/config', '--print-value-only']],
];

async function runSequence(
  members: MemberProcess[],
): Promise<{ args: string[]; code: number; stdout: string; stderr: string }[]> {
  const out = [];
  for (const [i, cert, args] of SEQUENCE) {
    const c = cert();
    const tls = ['--cacert', ca.cert, '--cert', c.cert, '--key', c.key];
    // Linearizable calls through a follower right after a change through another member are
    // answered after that member applied it, so each step sees the ones before.
    const r = normalize(await etcdctl(members[i].endpoint, [...tls, ...args]), members[i].endpoint);
    out.push({ args, ...r });
  }
  return out;
}

it('user, role and auth commands with client certificates answer alike on TLS clusters of etcd and Cairn', async () => {
  const results: Awaited<ReturnType<typeof runSequence>>[] = [];
  for (const kind of ['etcd', 'cairn'] as const) {
    const members = await startTlsCluster(kind);
    try {
      results.push(await runSequence(members));
    } finally {
      await Promise.all(members.map((m) => m.stop()));
    }
  }
  const [etcd, cairn] = results;
  expect(cairn).toEqual(etcd);
  // The sequence did what it says (so that equal answers are not equal failures).
  const step = (n: number) => cairn[n];
  expect(step(5)).toMatchObject({ code: 0, stdout: 'Authentication Enabled\n' });
  expect(step(7)).toMatchObject({ code: 0, stdout: '/app/config\nv1\n' });
  expect(step(8).code).not.toBe(0);
  expect(step(8).stderr).toContain('etcdserver: permission denied');
  expect(step(9).stderr).toContain('authentication failed');
  expect(step(10)).toMatchObject({ code: 0, stdout: '/app/config\nv1\n' });
  expect(step(11).stderr).toContain('etcdserver: permission denied');
  expect(step(17).stderr).toContain('etcdserver: permission denied');
  expect(step(18)).toMatchObject({ code: 0, stdout: 'Authentication Disabled\n' });
  expect(step(20)).toMatchObject({ code: 0, stdout: 'v4\n' });
});
