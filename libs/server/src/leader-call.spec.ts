import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdError } from './etcd-errors';
import { uint64Bits } from './etcd-types';
import { Member } from './member';

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => ok(port));
    });
  });
}

/** Three in-process members on loopback peer ports, each with its own RocksDB. */
describe('a 3-member cluster in one process', () => {
  const dirs: string[] = [];
  let members: Member[];

  beforeAll(async () => {
    const ports = await Promise.all([freePort(), freePort(), freePort()]);
    const initialCluster = Object.fromEntries(ports.map((p, i) => [`m${i + 1}`, [`http://127.0.0.1:${p}`]]));
    members = await Promise.all(
      ports.map((port, i) => {
        const dataDir = mkdtempSync(join(tmpdir(), 'cairn-leader-call-'));
        dirs.push(dataDir);
        return Member.start({
          name: `m${i + 1}`,
          dataDir,
          initialCluster,
          initialClusterToken: 'leader-call',
          initialClusterState: 'new',
          peerListeners: [{ host: '127.0.0.1', port }],
          maxRequestBytes: 1.5 * 1024 * 1024,
          maxTxnOps: 128,
          heartbeatIntervalMs: 20,
          electionTimeoutMs: 200,
        });
      }),
    );
    for (const m of members) {
      m.onLeaderCall('whoami', async (payload, from) =>
        Buffer.from(
          `${payload.toString()} from ${from.toString(16)} served by ${m.identity.memberId.toString(16)}`,
        ),
      );
      m.onLeaderCall('refuse', async () => {
        throw new EtcdError(5, 'etcdserver: requested lease not found');
      });
    }
  });

  afterAll(async () => {
    await Promise.all((members ?? []).map((m) => m.stop()));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('shares one cluster id and a leader; a write on a follower is applied on every member', async () => {
    expect(new Set(members.map((m) => m.identity.clusterId)).size).toBe(1);
    const leader = members.find((m) => m.status().leader === m.identity.memberId.toString())!;
    const follower = members.find((m) => m !== leader)!;
    const put = await follower.put({ key: Buffer.from('k'), value: Buffer.from('v') });
    expect(put.header!.member_id).toEqual(uint64Bits(follower.identity.memberId));
    for (const m of members) {
      const r = await m.range({ key: Buffer.from('k') });
      expect(Buffer.from(r.kvs![0].value!).toString()).toBe('v');
    }
  });

  it('runs callLeader handlers on the leader, from any member, with etcd errors passed back', async () => {
    const leaderId = members[0].status().leader;
    const hexLeader = BigInt(leaderId!).toString(16);
    for (const m of members) {
      const answer = (await m.callLeader('whoami', Buffer.from('hello'))).toString();
      expect(answer).toBe(`hello from ${m.identity.memberId.toString(16)} served by ${hexLeader}`);
      await expect(m.callLeader('refuse', Buffer.alloc(0))).rejects.toEqual(
        new EtcdError(5, 'etcdserver: requested lease not found'),
      );
    }
  });

  it('moves leadership to another voter (MoveLeader) and refuses it on a follower or for a non-member', async () => {
    const leader = members.find((m) => m.status().leader === m.identity.memberId.toString())!;
    const follower = members.find((m) => m !== leader)!;
    await expect(follower.moveLeader({ targetID: leader.identity.memberId.toString() })).rejects.toThrow(
      'etcdserver: not leader',
    );
    await expect(leader.moveLeader({ targetID: '12345' })).rejects.toThrow(
      'etcdserver: bad leader transferee',
    );
    await leader.moveLeader({ targetID: follower.identity.memberId.toString() });
    for (const m of members) {
      for (let i = 0; i < 50 && m.status().leader !== follower.identity.memberId.toString(); i++) {
        await new Promise((ok) => setTimeout(ok, 20));
      }
      expect(m.status().leader).toBe(follower.identity.memberId.toString());
    }
    // Writes go on through the new leader.
    await leader.put({ key: Buffer.from('after-move'), value: Buffer.from('1') });
  });
});
