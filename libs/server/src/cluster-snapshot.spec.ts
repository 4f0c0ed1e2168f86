import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdError, GrpcCode } from './etcd-errors';
import { uint64Bits } from './etcd-types';
import { Member, MemberConfig } from './member';
import { SNAPSHOT_CHUNK_BYTES, parseSnapshot } from './snapshot';

describe('Member: member list, move-leader and snapshot (a cluster of one)', () => {
  let dir: string;
  const config = (over: Partial<MemberConfig> = {}): MemberConfig => ({
    name: 'm1',
    dataDir: dir,
    initialCluster: { m1: ['http://127.0.0.1:2380'] },
    initialClusterToken: 'etcd-cluster',
    clientUrls: ['http://127.0.0.1:2379'],
    maxRequestBytes: 1.5 * 1024 * 1024,
    maxTxnOps: 128,
    heartbeatIntervalMs: 10,
    electionTimeoutMs: 100,
    ...over,
  });

  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'cairn-cluster-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lists itself; peer URLs survive a restart with other --initial-* flags, client URLs follow the flags', async () => {
    let m = await Member.start(config());
    const id = m.identity.memberId.toString();
    expect(m.memberList()).toEqual({
      header: {
        cluster_id: uint64Bits(m.identity.clusterId),
        member_id: uint64Bits(m.identity.memberId),
        raft_term: 2,
      },
      members: [
        {
          ID: id,
          name: 'm1',
          peerURLs: ['http://127.0.0.1:2380'],
          clientURLs: ['http://127.0.0.1:2379'],
          isLearner: false,
        },
      ],
    });
    await m.stop();
    m = await Member.start(
      config({ initialCluster: { m1: ['http://10.0.0.1:2380'] }, clientUrls: ['http://127.0.0.1:3379'] }),
    );
    try {
      expect(m.memberList().members).toEqual([
        {
          ID: id,
          name: 'm1',
          peerURLs: ['http://127.0.0.1:2380'],
          clientURLs: ['http://127.0.0.1:3379'],
          isLearner: false,
        },
      ]);
    } finally {
      await m.stop();
    }
  });

  it('moves leadership to itself and refuses any other id as etcd does', async () => {
    const m = await Member.start(config());
    try {
      expect(await m.moveLeader({ targetID: m.identity.memberId.toString() })).toEqual({});
      for (const targetID of ['0', '1234', (m.identity.memberId + 1n).toString()]) {
        const err = await m.moveLeader({ targetID }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(EtcdError);
        expect(err).toMatchObject({
          code: GrpcCode.FAILED_PRECONDITION,
          message: 'etcdserver: bad leader transferee',
        });
      }
    } finally {
      await m.stop();
    }
  });

  it('streams a consistent snapshot in 32 KiB chunks, counting down, with a sha256 trailer', async () => {
    const m = await Member.start(config());
    try {
      const value = Buffer.alloc(10_000, 'x');
      await Promise.all(Array.from({ length: 40 }, (_, i) => m.put({ key: Buffer.from(`key-${i}`), value })));
      const stream = m.snapshot();
      const first = await stream.next();
      // Written after the stream started: not in the snapshot (one iterator, one point in time).
      await m.put({ key: Buffer.from('late-key'), value: Buffer.from('late-value') });
      const msgs = [first.value!];
      for await (const msg of stream) msgs.push(msg);

      const data = msgs.slice(0, -1);
      const trailer = msgs[msgs.length - 1];
      expect(trailer.remaining_bytes).toBe('0');
      expect(trailer.blob.length).toBe(32);
      expect(data.length).toBeGreaterThan(10);
      data.slice(0, -1).forEach((msg) => expect(msg.blob.length).toBe(SNAPSHOT_CHUNK_BYTES));
      const remaining = data.map((msg) => Number(msg.remaining_bytes));
      expect(remaining[remaining.length - 1]).toBe(0);
      remaining.slice(0, -1).forEach((r, i) => {
        expect(r).toBeGreaterThan(0);
        if (i > 0) expect(r).toBeLessThanOrEqual(remaining[i - 1]);
      });

      const body = Buffer.concat(data.map((msg) => msg.blob));
      expect(createHash('sha256').update(body).digest()).toEqual(trailer.blob);
      const file = Buffer.concat([body, trailer.blob]);
      expect(file.length % 512).toBe(32);
      const records = parseSnapshot(file);
      const has = (needle: string) => records.some(([k, v]) => k.includes(needle) || v.includes(needle));
      for (let i = 0; i < 40; i++) expect(has(`key-${i}`)).toBe(true);
      expect(has('late-key')).toBe(false);
      expect(() => parseSnapshot(Buffer.concat([body.subarray(1), Buffer.alloc(1), trailer.blob]))).toThrow(
        /^expected sha256 \[/,
      );
    } finally {
      await m.stop();
    }
  });

  it('stops the scan when the consumer stops reading', async () => {
    const m = await Member.start(config());
    try {
      await m.put({ key: Buffer.from('a'), value: Buffer.alloc(100_000, 'y') });
      const stream = m.snapshot();
      await stream.next();
      await stream.return(undefined);
      expect((await stream.next()).done).toBe(true);
    } finally {
      await m.stop();
    }
  });
});
