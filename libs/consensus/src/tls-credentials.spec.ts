import * as grpc from '@grpc/grpc-js';
import { X509Certificate } from 'node:crypto';
import { PeerCertificate } from 'node:tls';
import * as selfsigned from 'selfsigned';
import { Message, MessageType, SnapshotStatus, makeMessage } from '../../raft/src';
import { PeerCallError, PeerTransport, PeerTransportSink } from './peer-transport';
import { CERT_AUTH_FAILED, TlsMaterial, certificateRefusal } from './tls-credentials';

const A = 0xa1n;
const B = 0xb2n;
const CLUSTER = 0xc3n;

type AltName = { type: 2; value: string } | { type: 7; ip: string };

let ca: { cert: string; private: string };
const issue = async (cn: string, altNames: AltName[] = [{ type: 7, ip: '127.0.0.1' }]) => {
  const pems = await selfsigned.generate([{ name: 'commonName', value: cn }], {
    keyType: 'ec',
    algorithm: 'sha256',
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  });
  return { cert: Buffer.from(pems.cert), key: Buffer.from(pems.private) };
};

beforeAll(async () => {
  ca = await selfsigned.generate([{ name: 'commonName', value: 'test CA' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
});

/** What a TLS socket reports for a certificate: its subject and DER bytes. */
function peerCert(pem: Buffer): PeerCertificate {
  const x = new X509Certificate(pem);
  const cn = /CN=([^\n]*)/.exec(x.subject)?.[1];
  return { subject: { CN: cn }, raw: x.raw } as unknown as PeerCertificate;
}

describe('certificateRefusal', () => {
  it('passes everything when no CN or hostname is required', async () => {
    expect(certificateRefusal({}, undefined)).toBeUndefined();
  });

  it('--peer-cert-allowed-cn: the subject CN must be exactly the one allowed', async () => {
    const member = peerCert((await issue('member')).cert);
    expect(certificateRefusal({ allowedCn: 'member' }, member)).toBeUndefined();
    expect(certificateRefusal({ allowedCn: 'Member' }, member)).toBe(CERT_AUTH_FAILED);
    expect(certificateRefusal({ allowedCn: 'member' }, undefined)).toBe(CERT_AUTH_FAILED);
  });

  it('allowed hostname: a DNS or IP SAN must match; the CN does not count', async () => {
    const named = peerCert(
      (
        await issue('m1.example', [
          { type: 2, value: '*.cairn.test' },
          { type: 7, ip: '10.0.0.7' },
        ])
      ).cert,
    );
    expect(certificateRefusal({ allowedHostname: 'm1.cairn.test' }, named)).toBeUndefined();
    expect(certificateRefusal({ allowedHostname: '10.0.0.7' }, named)).toBeUndefined();
    expect(certificateRefusal({ allowedHostname: '10.0.0.8' }, named)).toBe(CERT_AUTH_FAILED);
    expect(certificateRefusal({ allowedHostname: 'm1.example' }, named)).toBe(CERT_AUTH_FAILED);
  });
});

class Sink implements PeerTransportSink {
  received: Message[] = [];
  private waiters: (() => void)[] = [];
  deliver(messages: Message[]): void {
    this.received.push(...messages);
    this.waiters.splice(0).forEach((w) => w());
  }
  reportUnreachable(): void {}
  reportSnapshot(_id: bigint, _status: SnapshotStatus): void {}
  next(): Promise<void> {
    return this.received.length > 0 ? Promise.resolve() : new Promise((ok) => this.waiters.push(ok));
  }
}

describe('PeerTransport over TLS', () => {
  const started: PeerTransport[] = [];
  afterEach(() => Promise.all(started.splice(0).map((t) => t.stop())));

  async function transport(id: bigint, tls: TlsMaterial, peers: Map<bigint, string[]>, sink = new Sink()) {
    const t = await PeerTransport.start({
      memberId: id,
      clusterId: CLUSTER,
      listen: [{ host: '127.0.0.1', port: 0, tls: true }],
      peers,
      sink,
      tls,
    });
    started.push(t);
    return t;
  }
  const material = async (cn: string, more: Partial<TlsMaterial> = {}): Promise<TlsMaterial> => ({
    ...(await issue(cn)),
    ca: Buffer.from(ca.cert),
    clientCertAuth: true,
    ...more,
  });
  const url = (t: PeerTransport) => [`https://127.0.0.1:${t.ports[0]}`];

  it('carries raft messages between members with certificates from the CA', async () => {
    const sinkB = new Sink();
    const b = await transport(B, await material('member', { allowedCn: 'member' }), new Map(), sinkB);
    const a = await transport(A, await material('member', { allowedCn: 'member' }), new Map([[B, url(b)]]));
    a.send([makeMessage({ type: MessageType.Heartbeat, from: A, to: B, term: 5n })]);
    await sinkB.next();
    expect(sinkB.received[0]).toMatchObject({ from: A, term: 5n });
  });

  it('refuses the calls of a member whose certificate has another CN than --peer-cert-allowed-cn', async () => {
    const b = await transport(B, await material('member', { allowedCn: 'member' }), new Map());
    b.handle('echo', async (payload) => payload);
    const a = await transport(A, await material('intruder'), new Map([[B, url(b)]]));
    const refused = await a.call(B, 'echo', Buffer.from('x'), 10_000).catch((e: PeerCallError) => e);
    expect(refused).toBeInstanceOf(PeerCallError);
    expect(refused).toMatchObject({ code: grpc.status.UNAUTHENTICATED, message: CERT_AUTH_FAILED });
  });

  it('refuses an https listener without TLS material, rather than serving plain text', async () => {
    await expect(
      PeerTransport.start({
        memberId: A,
        clusterId: CLUSTER,
        listen: [{ host: '127.0.0.1', port: 0, tls: true }],
        peers: new Map(),
        sink: new Sink(),
      }),
    ).rejects.toThrow(/cannot listen on TLS for 127\.0\.0\.1:0: KeyFile and CertFile are not presented/);
  });
});
