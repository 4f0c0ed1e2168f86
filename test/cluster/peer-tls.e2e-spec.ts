// Peer TLS: members on https:// peer URLs with --peer-cert-file/--peer-key-file, verified
// against --peer-trusted-ca-file under --peer-client-cert-auth. A cluster forms and replicates;
// a member whose certificate comes from another CA, or carries the wrong CN under
// --peer-cert-allowed-cn, or is on the --peer-crl-file, never joins while the others go on;
// --peer-auto-tls clusters form; a member added later joins over TLS.
// The refusals and --peer-auto-tls also run against etcd 3.4 with the same certificates and end
// the same way, except the revoked member: etcd lets it take part, Cairn refuses it both ways.
import { readFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { etcdctl } from '../etcdctl/ctl';
import { FAST_RAFT, MemberKind, MemberProcess, freePort, startMember } from '../support/members';
import { IssuedCert, TestCa, TestPki } from '../support/pki';
import { whileUnhealthy } from '../support/reconfig';

jest.setTimeout(300_000);

const pki = new TestPki();
let ca: TestCa;
let members: IssuedCert[];
let strangerCa: TestCa;

beforeAll(() => {
  ca = pki.ca('peer-ca');
  members = [1, 2, 3].map((i) => ca.issue(`m${i}`, { cn: 'member', ips: ['127.0.0.1'] }));
  strangerCa = pki.ca('stranger-ca');
});

afterAll(() => pki.remove());

interface PeerSpec {
  /** --peer-cert-file and --peer-key-file (none: --peer-auto-tls in the flags). */
  cert?: IssuedCert;
  /** Expected never to serve: started without waiting for it (its `ready` is false). */
  refused?: boolean;
}

interface Outcome {
  members: (MemberProcess | undefined)[];
  /** Which members became ready (served clients). */
  ready: boolean[];
}

/** A 3-member cluster of `kind` on https:// peer URLs; a member that is not ready in time is undefined. */
async function startPeerTlsCluster(
  kind: MemberKind,
  specs: PeerSpec[],
  flags: string[],
  readyTimeoutMs = 60_000,
): Promise<Outcome> {
  const ports = await Promise.all(
    specs.map(async () => ({ client: await freePort(), peer: await freePort() })),
  );
  const peerUrl = (i: number) => `https://127.0.0.1:${ports[i].peer}`;
  const initialCluster = specs.map((_, i) => `m${i + 1}=${peerUrl(i)}`).join(',');
  const started = await Promise.allSettled(
    specs.map((s, i) =>
      startMember(kind, {
        name: `m${i + 1}`,
        ports: ports[i],
        initialCluster,
        peerUrls: { listen: peerUrl(i), advertised: peerUrl(i) },
        readyTimeoutMs,
        waitReady: !s.refused,
        // prettier-ignore
        extraArgs: [
          ...FAST_RAFT, '--initial-cluster-state', 'new', '--initial-cluster-token', 'peer-tls',
          ...certArgs(s.cert), ...flags,
        ],
      }),
    ),
  );
  const up = started.map((r) => (r.status === 'fulfilled' ? r.value : undefined));
  return { members: up, ready: up.map((m, i) => m !== undefined && !specs[i].refused) };
}

const certArgs = (c: IssuedCert | undefined) =>
  c ? ['--peer-cert-file', c.cert, '--peer-key-file', c.key] : [];

const stopAll = (o: Outcome | undefined) => Promise.all((o?.members ?? []).map((m) => m?.stop()));

/** Writes through the first ready member and reads the value back (serializable) from every ready one. */
async function replicates(o: Outcome): Promise<boolean> {
  const up = o.members.filter((m): m is MemberProcess => m !== undefined);
  const put = await etcdctl(up[0].endpoint, ['put', 'peer-tls', 'replicated']);
  if (put.code !== 0) return false;
  for (const m of up) if (!(await holdsWrite(m, 30_000))) return false;
  return true;
}

/** Whether `m` serves the replicated write (serializable read) within `waitMs`. */
async function holdsWrite(m: MemberProcess | undefined, waitMs = 3000): Promise<boolean> {
  if (!m) return false;
  const deadline = Date.now() + waitMs;
  do {
    // prettier-ignore
    const r = await etcdctl(m.endpoint, ['get', 'peer-tls', '--print-value-only', '--consistency=s', '--dial-timeout=1s', '--command-timeout=2s']);
    if (r.stdout.trim() === 'replicated') return true;
    await new Promise((ok) => setTimeout(ok, 200));
  } while (Date.now() < deadline);
  return false;
}

const verified = () => ['--peer-trusted-ca-file', ca.cert, '--peer-client-cert-auth'];

describe('a cluster on https:// peer URLs', () => {
  let cluster: Outcome | undefined;
  afterAll(() => stopAll(cluster));

  it('forms and replicates with CA-verified member certificates', async () => {
    cluster = await startPeerTlsCluster(
      'cairn',
      members.map((cert) => ({ cert })),
      verified(),
    );
    expect(cluster.ready).toEqual([true, true, true]);
    expect(await replicates(cluster)).toBe(true);
    const list = await etcdctl(cluster.members[0]!.endpoint, ['member', 'list']);
    expect(list.stdout.match(/https:\/\/127\.0\.0\.1:\d+/g)).toHaveLength(3);
    // Node's warning about TLS to an IP address goes into the log as JSON, like every line.
    for (const m of cluster.members) {
      const lines = m!
        .log()
        .split('\n')
        .filter((l) => l !== '');
      expect(lines.filter((l) => !l.startsWith('{'))).toEqual([]);
    }
  });

  it('takes a member added with etcdctl, which joins over TLS', async () => {
    const ports = { client: await freePort(), peer: await freePort() };
    const url = `https://127.0.0.1:${ports.peer}`;
    // Right after the start, etcd's strict reconfiguration check may still call the cluster unhealthy.
    const add = await whileUnhealthy(
      () => etcdctl(cluster!.members[0]!.endpoint, ['member', 'add', 'm4', `--peer-urls=${url}`]),
      (r) => r.stderr,
    );
    expect(add.code).toBe(0);
    const initialCluster = /ETCD_INITIAL_CLUSTER="([^"]+)"/.exec(add.stdout)?.[1];
    expect(initialCluster).toContain(`m4=${url}`);
    const m4 = await startMember('cairn', {
      name: 'm4',
      ports,
      initialCluster,
      peerUrls: { listen: url, advertised: url },
      // prettier-ignore
      extraArgs: [
        ...FAST_RAFT, '--initial-cluster-state', 'existing',
        ...certArgs(ca.issue('m4', { cn: 'member', ips: ['127.0.0.1'] })), ...verified(),
      ],
    });
    cluster!.members.push(m4);
    expect(await holdsWrite(m4, 30_000)).toBe(true);
  });

  it('speaks only TLS on the peer port, and only to clients with a certificate from the CA', async () => {
    const port = peerOf(cluster!.members[0]!);
    const stranger = strangerCa.issue('stranger', { cn: 'member', ips: ['127.0.0.1'] });
    expect(await tlsHello(port, members[1])).toBe('accepted');
    expect(await tlsHello(port, stranger)).toBe('refused');
    expect(await tlsHello(port, undefined)).toBe('refused');
  });
});

/** The peer port a member listens on (its --listen-peer-urls, from the process arguments). */
function peerOf(m: MemberProcess): number {
  const args = m.child.spawnargs;
  const url = args[args.indexOf('--listen-peer-urls') + 1];
  return Number(new URL(url).port);
}

/** Whether a TLS connection to the peer port presenting `cert` is kept (HTTP/2 answers) or refused. */
function tlsHello(port: number, cert: IssuedCert | undefined): Promise<'accepted' | 'refused'> {
  return new Promise((done) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      ca: [readFileSync(ca.cert)],
      ALPNProtocols: ['h2'],
      ...(cert ? { cert: readFileSync(cert.cert), key: readFileSync(cert.key) } : {}),
    });
    // TLS 1.3 reports a refused client certificate after the handshake: wait for the server's
    // first bytes (its HTTP/2 settings) or the alert.
    socket.once('data', () => {
      done('accepted');
      socket.destroy();
    });
    socket.once('error', () => done('refused'));
    socket.once('close', () => done('refused'));
  });
}

describe('--peer-auto-tls', () => {
  it("a cluster on self-signed certificates forms and replicates, as etcd's does", async () => {
    for (const kind of ['etcd', 'cairn'] as const) {
      const o = await startPeerTlsCluster(kind, [{}, {}, {}], ['--peer-auto-tls']);
      try {
        expect({ kind, ready: o.ready, replicates: o.ready.every(Boolean) && (await replicates(o)) }).toEqual(
          {
            kind,
            ready: [true, true, true],
            replicates: true,
          },
        );
      } finally {
        await stopAll(o);
      }
    }
  });
});

describe('a member the others must not trust never joins; the other two go on', () => {
  /**
   * m3 is refused; m1 and m2 form the quorum and replicate a write. m3 never holds it: with a
   * revoked certificate it may still hear the leader (a CRL guards listeners only, in etcd
   * too) but cannot answer, so nothing commits for it. Returns what must match etcd's.
   */
  async function refusedThird(kind: MemberKind, m3: PeerSpec, flags: string[]) {
    const o = await startPeerTlsCluster(
      kind,
      [{ cert: members[0] }, { cert: members[1] }, { ...m3, refused: true }],
      flags,
    );
    try {
      const quorum = { ...o, members: o.members.slice(0, 2), ready: o.ready.slice(0, 2) };
      const quorumServes = quorum.ready.every(Boolean) && (await replicates(quorum));
      // m3 has been running since the start: had it joined, it would hold the write by now.
      const thirdHoldsWrite = await holdsWrite(o.members[2]);
      const thirdServed = o.members[2]!.log().includes('ready to serve client requests');
      return { quorumServes, thirdHoldsWrite: thirdHoldsWrite || thirdServed };
    } finally {
      // Nothing is checked after this: no need to wait for etcd's graceful stop (seconds).
      await Promise.all(o.members.map((m) => m?.kill('SIGKILL')));
      await stopAll(o);
    }
  }

  const expectRefused = async (m3: () => PeerSpec, flags: () => string[]) => {
    const etcd = await refusedThird('etcd', m3(), flags());
    const cairn = await refusedThird('cairn', m3(), flags());
    expect(cairn).toEqual({ quorumServes: true, thirdHoldsWrite: false });
    expect(cairn).toEqual(etcd);
  };

  it('a certificate from another CA', async () => {
    await expectRefused(
      () => ({ cert: strangerCa.issue('m3-stranger', { cn: 'member', ips: ['127.0.0.1'] }) }),
      verified,
    );
  });

  it('a certificate with the wrong CN under --peer-cert-allowed-cn', async () => {
    await expectRefused(
      () => ({ cert: ca.issue('m3-intruder', { cn: 'intruder', ips: ['127.0.0.1'] }) }),
      () => [...verified(), '--peer-cert-allowed-cn', 'member'],
    );
  });

  it('a certificate on the --peer-crl-file (also refused where etcd lets it through)', async () => {
    const revoked = ca.issue('m3-revoked', { cn: 'member', ips: ['127.0.0.1'] });
    ca.revoke(revoked.cert);
    const crl = ca.crl('peer-crl');
    const flags = [...verified(), '--peer-crl-file', crl];
    // etcd checks the CRL only when it accepts a connection, and each member reads a peer's
    // messages over a connection it opens itself: the revoked member still takes part.
    expect(await refusedThird('etcd', { cert: revoked }, flags)).toEqual({
      quorumServes: true,
      thirdHoldsWrite: true,
    });
    // Cairn refuses the revoked certificate both ways: the member is out.
    expect(await refusedThird('cairn', { cert: revoked }, flags)).toEqual({
      quorumServes: true,
      thirdHoldsWrite: false,
    });
  });
});
