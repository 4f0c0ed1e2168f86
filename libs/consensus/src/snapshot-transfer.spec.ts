import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { Http2Server, ServerHttp2Stream, createServer } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Message,
  MessageType,
  SnapshotMetadata,
  SnapshotStatus,
  decodeSnapshotMetadata,
  emptyConfState,
  encodeMessage,
  encodeSnapshotMetadata,
  makeMessage,
} from '../../raft/src';
import { Engine, metaKey } from '../../storage/src';
import { CLUSTER_ID_HEADER, MEMBER_ID_HEADER, PeerClient, SnapshotChunkMessage } from './peer-protocol';
import { PeerTransport, PeerTransportSink } from './peer-transport';
import { SNAPSHOT_KEY, entryKey } from './raft-log-store';
import { ImageChecksum, ImageKeys, SnapshotStaging } from './snapshot-staging';

const LEADER = 0xa000_0000_0000_0001n;
const FOLLOWER = 0xb000_0000_0000_0002n;
const CLUSTER = 0xc1c1_0000_0000_0001n;
const LOCAL = metaKey('identity');
const keys = new ImageKeys([LOCAL]);

class Sink implements PeerTransportSink {
  delivered: Message[] = [];
  snapshots: SnapshotStatus[] = [];
  private waiters: (() => void)[] = [];
  deliver(messages: Message[]): void {
    this.delivered.push(...messages);
  }
  deliverSnapshot(m: Message): boolean {
    this.delivered.push(m);
    return true;
  }
  reportUnreachable(): void {}
  reportSnapshot(_id: bigint, status: SnapshotStatus): void {
    this.snapshots.push(status);
    for (const w of this.waiters.splice(0)) w();
  }
  reported(): Promise<SnapshotStatus> {
    if (this.snapshots.length > 0) return Promise.resolve(this.snapshots[0]);
    return new Promise((ok) => this.waiters.push(() => ok(this.snapshots[0])));
  }
}

const dirs: string[] = [];
const engines: Engine[] = [];
const transports: PeerTransport[] = [];

async function engine(): Promise<Engine> {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-snap-'));
  dirs.push(dir);
  const e = await Engine.open(dir);
  engines.push(e);
  return e;
}

const servers: Http2Server[] = [];

afterEach(async () => {
  for (const srv of servers.splice(0)) srv.close();
  await Promise.all(transports.splice(0).map((t) => t.stop()));
  await Promise.all(engines.splice(0).map((e) => e.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const meta = (index: bigint): SnapshotMetadata => ({
  index,
  term: 7n,
  confState: { ...emptyConfState(), voters: [LEADER, FOLLOWER] },
});

function snapMessage(index: bigint): Message {
  return makeMessage({
    type: MessageType.Snap,
    from: LEADER,
    to: FOLLOWER,
    term: 7n,
    snapshot: { data: new Uint8Array(0), metadata: meta(index) },
  });
}

/** The leader's image: 3000 records over several chunks, plus a meta record. */
function imageRecords(): [Buffer, Buffer][] {
  const out: [Buffer, Buffer][] = [];
  for (let i = 0; i < 3000; i++)
    out.push([Buffer.from(`k${String(i).padStart(5, '0')}`), Buffer.alloc(700, i % 251)]);
  out.push([metaKey('applied-index'), Buffer.from('new')]);
  return out;
}

async function* image(records: [Buffer, Buffer][]): AsyncGenerator<[Buffer, Buffer][]> {
  for (let i = 0; i < records.length; i += 100) yield records.slice(i, i + 100);
}

async function all(e: Engine): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for await (const chunk of e.scan())
    for (const [k, v] of chunk) out.push([k.toString('hex'), v.toString('hex')]);
  return out;
}

/** A follower with live state (old records, a member-local record, a raft log) and its transport. */
async function follower() {
  const e = await engine();
  e.write([
    { type: 'put', key: Buffer.from('k-old'), value: Buffer.from('old') },
    { type: 'put', key: metaKey('applied-index'), value: Buffer.from('old') },
    { type: 'put', key: LOCAL, value: Buffer.from('me') },
    { type: 'put', key: entryKey(5n), value: Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 1]) },
  ]);
  const staging = new SnapshotStaging(e, keys);
  const sink = new Sink();
  const t = await PeerTransport.start({
    memberId: FOLLOWER,
    clusterId: CLUSTER,
    listen: [{ host: '127.0.0.1', port: 0 }],
    peers: new Map(),
    sink,
    snapshots: staging,
  });
  transports.push(t);
  return { e, staging, sink, url: `127.0.0.1:${t.ports[0]}` };
}

/** A raw Peer.Snapshot call, to send what a correct sender never would. */
function rawCall(target: string) {
  const client = new PeerClient(target, grpc.credentials.createInsecure()) as unknown as grpc.Client &
    Record<string, (...args: unknown[]) => unknown>;
  const md = new grpc.Metadata();
  md.set(CLUSTER_ID_HEADER, CLUSTER.toString());
  md.set(MEMBER_ID_HEADER, LEADER.toString());
  let stream!: grpc.ClientWritableStream<SnapshotChunkMessage>;
  const answer = new Promise<grpc.ServiceError | null>((ok) => {
    stream = client.Snapshot(md, (err: grpc.ServiceError | null) => ok(err)) as never;
  });
  return { stream, answer: answer.finally(() => client.close()) };
}

describe('snapshot transfer', () => {
  it('streams an image in chunks, stages it, and installs it over the live state, keeping member-local records', async () => {
    const f = await follower();
    const sinkLeader = new Sink();
    const leader = await PeerTransport.start({
      memberId: LEADER,
      clusterId: CLUSTER,
      listen: [{ host: '127.0.0.1', port: 0 }],
      peers: new Map([[FOLLOWER, [`http://${f.url}`]]]),
      sink: sinkLeader,
    });
    transports.push(leader);
    const before = await all(f.e);
    const records = imageRecords();
    leader.sendSnapshot(snapMessage(42n), image(records));
    expect(await sinkLeader.reported()).toBe(SnapshotStatus.Finish);
    expect(f.sink.delivered).toHaveLength(1);
    expect(f.sink.delivered[0].snapshot?.metadata.index).toBe(42n);
    // Staged only: the live state is what it was, apart from the staging area.
    expect(
      (await all(f.e)).filter(
        // Not the staging area, its record, nor the engine's sync marker.
        ([k]) => !k.startsWith('73') && !k.includes(Buffer.from('staged').toString('hex')) && k !== '6d00',
      ),
    ).toEqual(before);
    expect(f.staging.staged()?.index).toBe(42n);
    // Taken by Raft: no other transfer may replace it before it is installed.
    expect(() => f.staging.begin()).toThrow('a snapshot is being installed');

    await f.staging.install(meta(42n));
    const after = new Map(await all(f.e));
    for (const [k, v] of records) expect(after.get(k.toString('hex'))).toBe(v.toString('hex'));
    expect(after.has(Buffer.from('k-old').toString('hex'))).toBe(false);
    expect(after.get(LOCAL.toString('hex'))).toBe(Buffer.from('me').toString('hex'));
    expect(after.has(entryKey(5n).toString('hex'))).toBe(false);
    expect(decodeSnapshotMetadata(f.e.get(SNAPSHOT_KEY)!).index).toBe(42n);
    // Image records, the member-local one, the raft records: nothing staged is left.
    expect([...after.keys()].some((k) => k.startsWith('73'))).toBe(false);
  });

  it('refuses an image whose checksum does not match: nothing delivered, nothing staged, live state intact', async () => {
    const f = await follower();
    const before = await all(f.e);
    const { stream, answer } = rawCall(f.url);
    const records = imageRecords().slice(0, 50);
    const sum = new ImageChecksum();
    for (const [k, v] of records) sum.add(k, v);
    stream.write({ message: encodeMessage(snapMessage(9n)) });
    stream.write({ keys: records.map(([k]) => k), values: records.map(([, v]) => v) });
    stream.write({ last: true, records: sum.records, crc32c: (sum.digest() + 1) >>> 0 });
    stream.end();
    const err = await answer;
    expect(err?.code).toBe(grpc.status.DATA_LOSS);
    expect(err?.details).toContain('checksum mismatch');
    expect(f.sink.delivered).toHaveLength(0);
    expect(f.staging.staged()).toBeUndefined();
    expect(await all(f.e)).toEqual(before);
  });

  it('an interrupted transfer leaves the old state intact and nothing to install', async () => {
    const f = await follower();
    const before = await all(f.e);
    const { stream, answer } = rawCall(f.url);
    const records = imageRecords();
    stream.write({ message: encodeMessage(snapMessage(9n)) });
    stream.write({
      keys: records.slice(0, 500).map(([k]) => k),
      values: records.slice(0, 500).map(([, v]) => v),
    });
    await new Promise((ok) => setTimeout(ok, 200));
    stream.cancel();
    await answer;
    // The receiver notices the cut and drops what it staged.
    for (let i = 0; i < 50 && (await all(f.e)).length !== before.length; i++)
      await new Promise((ok) => setTimeout(ok, 50));
    expect(await all(f.e)).toEqual(before);
    expect(f.sink.delivered).toHaveLength(0);
    await expect(f.staging.install(meta(9n))).rejects.toThrow(/staged image is missing/);
    expect(await all(f.e)).toEqual(before);
  });

  it('an install cut by a crash is finished at open from the staging', async () => {
    const f = await follower();
    const writer = f.staging.begin();
    const records = imageRecords();
    writer.write(records);
    const sum = new ImageChecksum();
    for (const [k, v] of records) sum.add(k, v);
    await writer.finish(meta(77n), sum.digest(), sum.records);
    // What install does first, then a crash half-way through clearing the live state.
    await f.e.writeSynced([
      {
        type: 'put',
        key: metaKey('raft-snapshot-installing'),
        value: Buffer.from(encodeSnapshotMetadata(meta(77n))),
      },
    ]);
    f.e.deleteRange(Buffer.from('k'), Buffer.from('k-p'));
    await f.e.sync();
    const path = f.e.path;
    await f.e.close();
    engines.splice(engines.indexOf(f.e), 1);
    const reopened = await Engine.open(path);
    engines.push(reopened);
    const done = await SnapshotStaging.recover(reopened, keys);
    expect(done?.index).toBe(77n);
    const after = new Map(await all(reopened));
    for (const [k, v] of records) expect(after.get(k.toString('hex'))).toBe(v.toString('hex'));
    expect(after.has(Buffer.from('k-old').toString('hex'))).toBe(false);
    expect(after.get(LOCAL.toString('hex'))).toBe(Buffer.from('me').toString('hex'));
    expect(after.has(metaKey('raft-snapshot-installing').toString('hex'))).toBe(false);
    expect(decodeSnapshotMetadata(reopened.get(SNAPSHOT_KEY)!).index).toBe(77n);
    // Nothing to do at the next open.
    expect(await SnapshotStaging.recover(reopened, keys)).toBeUndefined();
  });

  /**
   * A follower that stalls: an HTTP/2 peer that takes the Peer.Snapshot call and then never
   * reads it (flow control stops the leader's writes) or reads it all and never answers.
   */
  async function stalledFollower(reads: boolean) {
    const streams: ServerHttp2Stream[] = [];
    const srv = createServer();
    srv.on('stream', (stream) => {
      streams.push(stream);
      if (reads) stream.resume();
    });
    servers.push(srv);
    await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
    const { port } = srv.address() as { port: number };
    return { url: `http://127.0.0.1:${port}`, streams };
  }

  it.each([
    ['stops reading', false],
    ['never answers', true],
  ])(
    'a follower that %s fails the transfer after the stall timeout: reported to Raft, image closed, call cancelled',
    async (_what, reads) => {
      const f = await stalledFollower(reads);
      const sink = new Sink();
      const leader = await PeerTransport.start({
        memberId: LEADER,
        clusterId: CLUSTER,
        listen: [{ host: '127.0.0.1', port: 0 }],
        peers: new Map([[FOLLOWER, [f.url]]]),
        sink,
        snapshotStallMs: 500,
      });
      transports.push(leader);
      let closed = false;
      async function* tracked(): AsyncGenerator<[Buffer, Buffer][]> {
        try {
          yield* image(imageRecords());
        } finally {
          closed = true;
        }
      }
      leader.sendSnapshot(snapMessage(42n), tracked());
      expect(await sink.reported()).toBe(SnapshotStatus.Failure);
      expect(closed).toBe(true);
      // The follower sees the call cancelled: nothing stays open on either side.
      expect(f.streams).toHaveLength(1);
      for (let i = 0; i < 100 && !f.streams[0].closed; i++) await new Promise((ok) => setTimeout(ok, 50));
      expect(f.streams[0].closed).toBe(true);
      expect(f.streams[0].rstCode).toBe(8); // NGHTTP2_CANCEL
    },
    30_000,
  );
});
