import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../storage/src';
import { encodeInternalRequest } from './internal-request';
import { Member, MemberConfig } from './member';

describe('Member on Raft (a cluster of one)', () => {
  let dir: string;
  const config = (): MemberConfig => ({
    name: 'm1',
    dataDir: dir,
    initialCluster: { m1: ['http://127.0.0.1:2380'] },
    initialClusterToken: 'etcd-cluster',
    maxRequestBytes: 1.5 * 1024 * 1024,
    maxTxnOps: 128,
    heartbeatIntervalMs: 10,
    electionTimeoutMs: 100,
  });

  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'cairn-member-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reports raft term, leader and indexes from Raft, and keeps them across a restart', async () => {
    let m = await Member.start(config());
    let s = m.status();
    expect(s.raftTerm).toBe('2');
    expect(s.leader).toBe(m.identity.memberId.toString());
    // Bootstrap at index 1, the leader's empty entry at 2.
    expect(s.raftIndex).toBe('2');
    expect(s.raftAppliedIndex).toBe('2');

    const puts = await Promise.all(
      Array.from({ length: 100 }, (_, i) => m.put({ key: Buffer.from(`k${i}`), value: Buffer.from('v') })),
    );
    expect(puts.map((p) => Number(p.header!.revision)).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 100 }, (_, i) => i + 2),
    );
    expect(puts[0].header!.raft_term).toBe('2');
    s = m.status();
    expect(s.raftIndex).toBe('102');
    expect(s.raftAppliedIndex).toBe('102');
    await m.stop();

    m = await Member.start(config());
    s = m.status();
    expect(s.raftTerm).toBe('3');
    expect(s.raftIndex).toBe('103');
    expect(s.raftAppliedIndex).toBe('103');
    const r = await m.range({ key: Buffer.from('k'), range_end: Buffer.from('l'), count_only: true });
    expect(r.count).toBe('100');
    await m.stop();
  });

  it('applies the acknowledged tail of a pre-Raft log once, then continues the Raft log after it', async () => {
    // The one-member log that preceded Raft: 'r', index (8 bytes BE), an InternalRequest.
    const engine = await Engine.open(join(dir, 'member', 'db'));
    const ops = Array.from({ length: 5 }, (_, i) => {
      const key = Buffer.alloc(9);
      key[0] = 0x72;
      key.writeUIntBE(i + 1, 3, 6);
      const value = encodeInternalRequest({
        id: String(i + 1),
        put: { key: Buffer.from(`old${i}`), value: Buffer.from('v') },
      });
      return { type: 'put' as const, key, value: Buffer.from(value) };
    });
    await engine.writeSynced(ops);
    await engine.close();

    let m = await Member.start(config());
    let r = await m.range({ key: Buffer.from('old'), range_end: Buffer.from('olf'), count_only: true });
    expect(r.count).toBe('5');
    expect(m.status().raftAppliedIndex).toBe('6'); // the store's 5, then the leader's empty entry
    await m.put({ key: Buffer.from('new'), value: Buffer.from('v') });
    await m.stop();

    m = await Member.start(config());
    r = await m.range({ key: Buffer.from('', 'utf8'), range_end: Buffer.from([0]), count_only: true });
    expect(r.count).toBe('6');
    expect(m.status().header!.revision).toBe('7');
    await m.stop();
  });
});
