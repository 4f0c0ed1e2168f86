import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    expect(puts[0].header!.raft_term).toBe(2);
    s = m.status();
    expect(s.raftIndex).toBe('102');
    expect(s.raftAppliedIndex).toBe('102');
    await m.stop();

    m = await Member.start(config());
    s = m.status();
    expect(Number(s.raftTerm)).toBeGreaterThanOrEqual(3); // 3 unless a slow fsync timed a candidacy out
    expect(s.raftIndex).toBe('103');
    expect(s.raftAppliedIndex).toBe('103');
    const r = await m.range({ key: Buffer.from('k'), range_end: Buffer.from('l'), count_only: true });
    expect(r.count).toBe(100);
    await m.stop();
  });
});
