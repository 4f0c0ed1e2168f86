// TLS: the client verifies the member against a root CA and authenticates with a client certificate
// (etcd started with --client-cert-auth). Certificates are made with openssl for the test.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CairnClient, DeadlineExceededError } from '../../libs/client/src';
import { MemberProcess, freePort, startMember } from '../support/members';

jest.setTimeout(60_000);

function makeCerts(dir: string) {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=test-ca',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
  );
  writeFileSync(
    join(dir, 'san.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n',
  );
  for (const name of ['server', 'client']) {
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
    );
    // prettier-ignore
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', 'san.ext', '-out', `${name}.crt`);
  }
  const read = (f: string) => readFileSync(join(dir, f));
  return { ca: read('ca.crt'), cert: read('client.crt'), key: read('client.key') };
}

describe('client TLS against etcd', () => {
  let dir: string;
  let member: MemberProcess;
  let certs: ReturnType<typeof makeCerts>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cairn-tls-'));
    certs = makeCerts(dir);
    const client = await freePort();
    const url = `https://127.0.0.1:${client}`;
    member = await startMember('etcd', {
      ports: { client, peer: await freePort() },
      // prettier-ignore
      extraArgs: [
        '--listen-client-urls', url, '--advertise-client-urls', url,
        '--cert-file', join(dir, 'server.crt'), '--key-file', join(dir, 'server.key'),
        '--client-cert-auth', '--trusted-ca-file', join(dir, 'ca.crt'),
      ],
    });
  });
  afterAll(async () => {
    await member?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('connects with the root CA and a client certificate', async () => {
    const client = new CairnClient({
      endpoints: [member.endpoint],
      tls: { rootCA: certs.ca, cert: certs.cert, key: certs.key },
    });
    await client.kv.put('tls/k', 'v');
    expect((await client.kv.get('tls/k'))?.valueString).toBe('v');
    client.close();
  });

  it('does not reach the member without TLS', async () => {
    const plain = new CairnClient({ endpoints: [member.endpoint] });
    await expect(plain.kv.get('tls/k', { timeoutMs: 1000 })).rejects.toBeInstanceOf(DeadlineExceededError);
    plain.close();
  });
});
