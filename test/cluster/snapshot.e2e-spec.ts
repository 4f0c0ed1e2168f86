// Followers behind the leader's truncated log catch up from a snapshot (Peer.Snapshot): a
// follower that was down while the log moved on, and a member added after the truncation.
import { etcdctl } from '../etcdctl/ctl';
import { EtcdApi, connect, settle } from '../support/etcd-api';
import { FAST_RAFT, MemberProcess, freePort, startCluster, startMember } from '../support/members';
import { whileUnhealthy } from '../support/reconfig';

jest.setTimeout(180_000);

interface Node {
  member: MemberProcess;
  api: EtcdApi;
}

// A truncation every 100 applied entries, keeping 100 for catch-up: 400 writes outrun the log.
const SNAPSHOT_ARGS = [...FAST_RAFT, '--snapshot-count', '100'];
const WRITES = 400;

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

async function leaderIndex(nodes: Node[]): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const statuses = await Promise.all(nodes.map((n) => settle(n.api.maintenance.Status({}))));
    const i = statuses.findIndex(
      (s) => s.ok && String(s.ok.leader) !== '0' && String(s.ok.leader) === String(s.ok.header.member_id),
    );
    if (i >= 0) return i;
    await sleep(100);
  }
  throw new Error('no leader');
}

/** Waits until `n` has applied at least `index` (polling Status). */
async function appliedUpTo(n: Node, index: bigint): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    const s = await settle(n.api.maintenance.Status({}));
    if (s.ok && BigInt(s.ok.raftAppliedIndex) >= index) return;
    await sleep(100);
  }
  throw new Error(`member did not apply up to ${index}`);
}

async function hashAt(n: Node, revision: number): Promise<{ hash: number; compact: string }> {
  const res = await n.api.maintenance.HashKV({ revision });
  return { hash: res.hash, compact: String(res.compact_revision) };
}

async function writeMany(n: Node, prefix: string, count: number): Promise<number> {
  let revision = 0;
  for (let i = 0; i < count; i++) {
    const res = await n.api.kv.Put({ key: Buffer.from(`${prefix}-${i}`), value: Buffer.from(`value-${i}`) });
    revision = Number(res.header.revision);
  }
  return revision;
}

function logOf(n: Node): string {
  return n.member.log();
}

describe('snapshots for followers behind the truncated log', () => {
  let nodes: Node[] = [];
  let added: Node | undefined;
  beforeAll(async () => {
    const members = await startCluster('cairn', 3, { extraArgs: SNAPSHOT_ARGS });
    nodes = members.map((member) => ({ member, api: connect(member.endpoint) }));
  });
  afterAll(async () => {
    const all = added ? [...nodes, added] : nodes;
    for (const n of all) n.api.close();
    await Promise.all(all.map((n) => n.member.stop()));
  });

  it('a follower that was down catches up from a snapshot: same data, same HashKV, leases', async () => {
    const li = await leaderIndex(nodes);
    const leader = nodes[li];
    const fi = (li + 1) % 3;
    await writeMany(leader, 'before', 10);
    await nodes[fi].member.kill('SIGKILL');
    nodes[fi].api.close();

    const grant = await etcdctl(leader.member.endpoint, ['lease', 'grant', '600']);
    expect(grant.code).toBe(0);
    const leaseHex = /lease ([0-9a-f]+) granted/.exec(grant.stdout)![1];
    expect(
      (await etcdctl(leader.member.endpoint, ['put', 'leased', 'yes', `--lease=${leaseHex}`])).code,
    ).toBe(0);
    await writeMany(leader, 'while-down', WRITES);
    await leader.api.kv.DeleteRange({ key: Buffer.from('while-down-1') });
    const compacted = await leader.api.kv.Put({ key: Buffer.from('mark'), value: Buffer.from('m') });
    await leader.api.kv.Compact({ revision: Number(compacted.header.revision) - 50, physical: true });
    const last = await leader.api.kv.Put({ key: Buffer.from('last'), value: Buffer.from('l') });
    const revision = Number(last.header.revision);
    const leaderStatus = await leader.api.maintenance.Status({});

    const restarted = await nodes[fi].member.restart();
    nodes[fi] = { member: restarted, api: connect(restarted.endpoint) };
    await appliedUpTo(nodes[fi], BigInt(leaderStatus.raftAppliedIndex));
    expect(logOf(leader)).toContain('sent a snapshot');
    expect(logOf(nodes[fi])).toContain('installed a snapshot');

    const mine = await hashAt(nodes[fi], revision);
    expect(mine).toEqual(await hashAt(leader, revision));
    const range = await nodes[fi].api.kv.Range({
      key: Buffer.from('while-down-'),
      range_end: Buffer.from('while-down.'),
      serializable: true,
      count_only: true,
    });
    expect(Number(range.count)).toBe(WRITES - 1);
    const value = await nodes[fi].api.kv.Range({ key: Buffer.from('while-down-7'), serializable: true });
    expect(value.kvs[0].value.toString()).toBe('value-7');
    const leased = await nodes[fi].api.kv.Range({ key: Buffer.from('leased'), serializable: true });
    expect(BigInt(leased.kvs[0].lease)).toBe(BigInt(`0x${leaseHex}`));
    // The follower knows the lease (its lessor was reloaded with the image): revoking it through
    // the follower deletes the key everywhere.
    const leases = await etcdctl(nodes[fi].member.endpoint, ['lease', 'list']);
    expect(leases.stdout).toContain(leaseHex);
    expect((await etcdctl(nodes[fi].member.endpoint, ['lease', 'revoke', leaseHex])).code).toBe(0);
    for (const n of nodes) {
      const gone = await n.api.kv.Range({ key: Buffer.from('leased') });
      expect(gone.kvs).toHaveLength(0);
    }
    // It goes on replicating from the log after the snapshot.
    const after = await nodes[fi].api.kv.Put({ key: Buffer.from('after'), value: Buffer.from('a') });
    const index = BigInt((await nodes[fi].api.maintenance.Status({})).raftAppliedIndex);
    // Every member (the leader too: a follower may apply an entry before the leader does).
    for (const n of nodes) await appliedUpTo(n, index);
    const hashes = await Promise.all(nodes.map((n) => hashAt(n, Number(after.header.revision))));
    expect(new Set(hashes.map((h) => h.hash)).size).toBe(1);
  });

  it('a member added after the log was truncated joins with --initial-cluster-state existing through a snapshot', async () => {
    const li = await leaderIndex(nodes);
    const leader = nodes[li];
    await writeMany(leader, 'before-join', WRITES);
    const ports = { client: await freePort(), peer: await freePort() };
    const peerUrl = `http://127.0.0.1:${ports.peer}`;
    const add = await whileUnhealthy(
      () => etcdctl(leader.member.endpoint, ['member', 'add', 'm4', `--peer-urls=${peerUrl}`]),
      (r) => r.stderr,
    );
    expect(add.code).toBe(0);
    const initialCluster = /ETCD_INITIAL_CLUSTER="(.*)"/.exec(add.stdout)![1];
    const m4 = await startMember('cairn', {
      name: 'm4',
      ports,
      initialCluster,
      extraArgs: ['--initial-cluster-state', 'existing', ...SNAPSHOT_ARGS],
    });
    added = { member: m4, api: connect(m4.endpoint) };
    const last = await leader.api.kv.Put({ key: Buffer.from('joined'), value: Buffer.from('j') });
    const status = await leader.api.maintenance.Status({});
    await appliedUpTo(added, BigInt(status.raftAppliedIndex));
    expect(logOf(added)).toContain('installed a snapshot');
    const revision = Number(last.header.revision);
    expect(await hashAt(added, revision)).toEqual(await hashAt(leader, revision));
    const members = await added.api.cluster.MemberList({});
    expect(members.members).toHaveLength(4);
    // A voter now: it takes writes and serves linearizable reads.
    await added.api.kv.Put({ key: Buffer.from('from-m4'), value: Buffer.from('4') });
    for (const n of nodes) {
      const got = await n.api.kv.Range({ key: Buffer.from('from-m4') });
      expect(got.kvs[0].value.toString()).toBe('4');
    }
  });

  it('a follower killed -9 while it installs a snapshot converges after a restart, wherever the kill landed', async () => {
    const all = added ? [...nodes, added] : [...nodes];
    const li = await leaderIndex(all);
    const leader = all[li];
    const fi = (li + 1) % all.length;
    await all[fi].member.kill('SIGKILL');
    all[fi].api.close();
    // Large values: the install copies a few megabytes, a wide window for the kill.
    for (let i = 0; i < WRITES; i++) {
      await leader.api.kv.Put({ key: Buffer.from(`big-${i}`), value: Buffer.alloc(8192, i % 256) });
    }
    // Killed -9 as soon as it logs that the install started (it may serve before: a member is
    // ready once it knows the leader and replayed its own log).
    let sawInstall = false;
    const restarted = await all[fi].member
      .restart([], {
        onOutput: (text, child) => {
          if (!sawInstall && text.includes('installing a snapshot')) {
            sawInstall = true;
            child.kill('SIGKILL');
          }
        },
      })
      .catch(() => undefined);
    for (let i = 0; i < 300 && !sawInstall; i++) await sleep(100);
    await restarted?.kill('SIGKILL');
    expect(sawInstall).toBe(true);
    const again = await all[fi].member.restart();
    const node = { member: again, api: connect(again.endpoint) };
    if (fi < nodes.length) nodes[fi] = node;
    else added = node;
    const last = await leader.api.kv.Put({ key: Buffer.from('after-kill'), value: Buffer.from('k') });
    await appliedUpTo(node, BigInt((await leader.api.maintenance.Status({})).raftAppliedIndex));
    const revision = Number(last.header.revision);
    expect(await hashAt(node, revision)).toEqual(await hashAt(leader, revision));
  });
});
