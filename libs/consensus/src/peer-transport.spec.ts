import { Message, MessageType, SnapshotStatus, makeMessage } from '../../raft/src';
import { PeerCallError, PeerTransport, PeerTransportSink } from './peer-transport';

const A = 0xa000_0000_0000_0001n;
const B = 0xb000_0000_0000_0002n;
const CLUSTER = 0xc1c1_0000_0000_0001n;

class Recorder implements PeerTransportSink {
  received: Message[] = [];
  unreachable: bigint[] = [];
  snapshots: [bigint, SnapshotStatus][] = [];
  removedCalls = 0;
  private waiting: { n: number; ok: () => void }[] = [];
  deliver(messages: Message[]): void {
    this.received.push(...messages);
    this.waiting = this.waiting.filter((w) => (this.received.length >= w.n ? (w.ok(), false) : true));
  }
  reportUnreachable(id: bigint): void {
    this.unreachable.push(id);
  }
  reportSnapshot(id: bigint, status: SnapshotStatus): void {
    this.snapshots.push([id, status]);
  }
  removed(): void {
    this.removedCalls++;
  }
  until(n: number): Promise<void> {
    if (this.received.length >= n) return Promise.resolve();
    return new Promise((ok) => this.waiting.push({ n, ok }));
  }
}

function msg(from: bigint, to: bigint, index: bigint, data?: string): Message {
  return makeMessage({
    type: MessageType.App,
    from,
    to,
    term: 0xffff_ffff_ffff_fff0n,
    index,
    entries: data ? [{ term: 3n, index: index + 1n, type: 0, data: Buffer.from(data) }] : [],
  });
}

const loopback = [{ host: '127.0.0.1', port: 0 }];
const url = (t: PeerTransport) => [`http://127.0.0.1:${t.ports[0]}`];
const started: PeerTransport[] = [];

async function pair(clusterOfB = CLUSTER, isRemovedByA?: (id: bigint) => boolean) {
  const sinkA = new Recorder();
  const sinkB = new Recorder();
  const a = await PeerTransport.start({
    memberId: A,
    clusterId: CLUSTER,
    listen: loopback,
    peers: new Map(),
    sink: sinkA,
    isRemoved: isRemovedByA,
  });
  const b = await PeerTransport.start({
    memberId: B,
    clusterId: clusterOfB,
    listen: loopback,
    peers: new Map([[A, url(a)]]),
    sink: sinkB,
  });
  a.addPeer(B, url(b));
  started.push(a, b);
  return { a, b, sinkA, sinkB };
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((t) => t.stop()));
});

describe('PeerTransport', () => {
  it('carries batches of raft messages both ways, in order, with 64-bit fields intact', async () => {
    const { a, b, sinkA, sinkB } = await pair();
    const toB = Array.from({ length: 500 }, (_, i) => msg(A, B, BigInt(i), `entry-${i}`));
    a.send(toB.slice(0, 250));
    a.send(toB.slice(250));
    b.send([msg(B, A, 7n)]);
    await Promise.all([sinkB.until(500), sinkA.until(1)]);
    expect(sinkB.received.map((m) => m.index)).toEqual(toB.map((m) => m.index));
    expect(sinkB.received[499].term).toBe(0xffff_ffff_ffff_fff0n);
    expect(sinkB.received[499].from).toBe(A);
    expect(Buffer.from(sinkB.received[10].entries[0].data).toString()).toBe('entry-10');
    expect(sinkA.received).toHaveLength(1);
    expect(sinkA.received[0].to).toBe(A);
  });

  it('refuses a stream from another cluster: nothing is delivered, the sender reports the peer unreachable', async () => {
    const { b, sinkA, sinkB } = await pair(0xdddd_0000_0000_0009n);
    b.send([msg(B, A, 1n)]);
    for (let i = 0; i < 100 && sinkB.unreachable.length === 0; i++)
      await new Promise((ok) => setTimeout(ok, 20));
    expect(sinkB.unreachable).toContain(A);
    expect(sinkA.received).toHaveLength(0);
  });

  it('tells a member removed while its stream is open, at its next message, and delivers nothing more', async () => {
    let removed = false;
    const { b, sinkA, sinkB } = await pair(CLUSTER, (id) => removed && id === B);
    b.send([msg(B, A, 1n)]);
    await sinkA.until(1);
    removed = true;
    b.send([msg(B, A, 2n)]);
    for (let i = 0; i < 100 && sinkB.removedCalls === 0; i++) await new Promise((ok) => setTimeout(ok, 20));
    expect(sinkB.removedCalls).toBe(1);
    expect(sinkA.received.map((m) => m.index)).toEqual([1n]);
  });

  it('reports a peer that does not listen as unreachable and drops while it is down', async () => {
    const sink = new Recorder();
    const t = await PeerTransport.start({
      memberId: A,
      clusterId: CLUSTER,
      listen: loopback,
      // A port nothing listens on (the transport's own port would answer).
      peers: new Map([[B, ['http://127.0.0.1:1']]]),
      sink,
    });
    started.push(t);
    t.send([msg(A, B, 1n)]);
    for (let i = 0; i < 100 && sink.unreachable.length === 0; i++)
      await new Promise((ok) => setTimeout(ok, 20));
    expect(sink.unreachable).toContain(B);
    const before = sink.unreachable.length;
    t.send([{ ...msg(A, B, 2n), type: MessageType.Snap }]);
    expect(sink.unreachable.length).toBeGreaterThan(before);
    expect(sink.snapshots).toContainEqual([B, SnapshotStatus.Failure]);
  });

  it('drops what exceeds the per-peer queue and reports the peer unreachable', async () => {
    const sink = new Recorder();
    const other = new Recorder();
    const b = await PeerTransport.start({
      memberId: B,
      clusterId: CLUSTER,
      listen: loopback,
      peers: new Map(),
      sink: other,
    });
    const a = await PeerTransport.start({
      memberId: A,
      clusterId: CLUSTER,
      listen: loopback,
      peers: new Map([[B, url(b)]]),
      sink,
      queueLimit: 10,
    });
    started.push(a, b);
    // All in one turn: the queue is drained only once the turn ends.
    a.send(Array.from({ length: 15 }, (_, i) => msg(A, B, BigInt(i))));
    expect(sink.unreachable.filter((id) => id === B)).toHaveLength(5);
    await other.until(10);
    expect(other.received.map((m) => m.index)).toEqual(Array.from({ length: 10 }, (_, i) => BigInt(i)));
  });

  it('runs Peer.Call handlers on the other member and returns their answers or errors', async () => {
    const { a, b } = await pair();
    b.handle('echo', async (payload, from) => Buffer.concat([payload, Buffer.from(`:${from.toString(16)}`)]));
    b.handle('fail', async () => {
      throw Object.assign(new Error('etcdserver: requested lease not found'), { code: 5 });
    });
    expect((await a.call(B, 'echo', Buffer.from('hi'), 5000)).toString()).toBe(`hi:${A.toString(16)}`);
    await expect(a.call(B, 'fail', Buffer.alloc(0), 5000)).rejects.toEqual(
      new PeerCallError(5, 'etcdserver: requested lease not found'),
    );
    await expect(a.call(B, 'nope', Buffer.alloc(0), 5000)).rejects.toMatchObject({ code: 12 });
  });

  it('refuses Peer.Call from another cluster', async () => {
    const { b } = await pair(0xdddd_0000_0000_0009n);
    await expect(b.call(A, 'anything', Buffer.alloc(0), 5000)).rejects.toMatchObject({
      code: 9,
      message: expect.stringContaining('cluster ID mismatch'),
    });
  });

  it('takes a peer whose URLs do not parse (MemberUpdate accepts any) as unreachable, without failing', async () => {
    const sink = new Recorder();
    const t = await PeerTransport.start({
      memberId: A,
      clusterId: CLUSTER,
      listen: loopback,
      peers: new Map(),
      sink,
    });
    started.push(t);
    t.addPeer(B, ['http://[::1']);
    t.send([msg(A, B, 1n)]);
    expect(sink.unreachable).toEqual([B]);
    await expect(t.call(B, 'm', Buffer.alloc(0), 1000)).rejects.toBeInstanceOf(PeerCallError);
    // No URL at all: the same.
    t.addPeer(B, []);
    t.send([msg(A, B, 2n)]);
    expect(sink.unreachable).toEqual([B, B]);
  });
});
