// Multi-member Cairn clusters as real processes on loopback, started with etcd-style flags:
// replication, reads on followers, leader loss, restart and catch-up, etcdctl across endpoints.
import { etcdctl } from '../etcdctl/ctl';
import { EtcdApi, connect, settle } from '../support/etcd-api';
import {
  FAST_RAFT,
  MemberProcess,
  freePort,
  initialClusterOf,
  memberSpecs,
  startCluster,
  startMember,
} from '../support/members';
import { whileUnhealthy } from '../support/reconfig';

jest.setTimeout(120_000);

interface Node {
  member: MemberProcess;
  api: EtcdApi;
}

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));
const text = (b: Buffer | string | undefined) => Buffer.from(b ?? '').toString();

async function open(kind: 'cairn', n: number): Promise<Node[]> {
  const members = await startCluster(kind, n, { extraArgs: FAST_RAFT });
  return members.map((member) => ({ member, api: connect(member.endpoint) }));
}

async function close(nodes: Node[] | undefined): Promise<void> {
  for (const n of nodes ?? []) n.api.close();
  await Promise.all((nodes ?? []).map((n) => n.member.stop()));
}

/** Polls until every given member reports the same, non-zero leader among them; returns it. */
async function agreedLeader(nodes: Node[], notId?: string): Promise<string> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const statuses = await Promise.all(nodes.map((n) => settle(n.api.maintenance.Status({}))));
    const leaders = new Set(statuses.map((s) => (s.ok ? String(s.ok.leader) : 'error')));
    const [leader] = leaders;
    if (leaders.size === 1 && leader !== '0' && leader !== 'error' && leader !== notId) return leader;
    await sleep(100);
  }
  throw new Error('members did not agree on a leader');
}

async function memberId(n: Node): Promise<string> {
  return String((await n.api.maintenance.Status({})).header.member_id);
}

async function get(n: Node, key: string, serializable = false): Promise<string | undefined> {
  const res = await n.api.kv.Range({ key: Buffer.from(key), serializable });
  return res.kvs.length > 0 ? text(res.kvs[0].value) : undefined;
}

describe('a 3-member cluster', () => {
  let nodes: Node[];
  beforeAll(async () => {
    nodes = await open('cairn', 3);
  });
  afterAll(() => close(nodes));

  it('agrees on one cluster, member ids and a leader, all reported by Status on every member', async () => {
    const leader = await agreedLeader(nodes);
    const statuses = await Promise.all(nodes.map((n) => n.api.maintenance.Status({})));
    const clusterIds = new Set(statuses.map((s) => String(s.header.cluster_id)));
    expect(clusterIds.size).toBe(1);
    const ids = statuses.map((s) => String(s.header.member_id));
    expect(new Set(ids).size).toBe(3);
    expect(ids).toContain(leader);
    for (const s of statuses) {
      expect(BigInt(s.raftTerm)).toBeGreaterThanOrEqual(2n);
      expect(String(s.header.raft_term)).toBe(String(s.raftTerm));
      expect(BigInt(s.raftIndex)).toBeGreaterThan(1n);
    }
  });

  it('replicates writes made on any member; linearizable reads on followers see them at once', async () => {
    for (let i = 0; i < nodes.length; i++) {
      const put = await nodes[i].api.kv.Put({ key: Buffer.from(`from-${i}`), value: Buffer.from(`v${i}`) });
      expect(String(put.header.member_id)).toBe(await memberId(nodes[i]));
      // Every member, leader or follower, answers a linearizable read with the write just acknowledged.
      for (const reader of nodes) expect(await get(reader, `from-${i}`)).toBe(`v${i}`);
    }
  });

  it('serves a txn written through a follower with the same revision everywhere', async () => {
    const txn = await nodes[2].api.kv.Txn({
      compare: [],
      success: [{ request_put: { key: Buffer.from('txn-key'), value: Buffer.from('t') } }],
      failure: [],
    });
    expect(txn.succeeded).toBe(true);
    const revision = String(txn.header.revision);
    for (const n of nodes) {
      const res = await n.api.kv.Range({ key: Buffer.from('txn-key') });
      expect(String(res.kvs[0].mod_revision)).toBe(revision);
    }
  });

  it('gives the same HashKV on every member at the same revision', async () => {
    const { header } = await nodes[0].api.kv.Put({ key: Buffer.from('hash-me'), value: Buffer.from('x') });
    // Linearizable reads first, so every member has applied the put.
    for (const n of nodes) await get(n, 'hash-me');
    const hashes = await Promise.all(
      nodes.map((n) => n.api.maintenance.HashKV({ revision: String(header.revision) })),
    );
    expect(new Set(hashes.map((h) => String(h.hash))).size).toBe(1);
    expect(hashes[0].hash).not.toBe(0);
  });

  it('answers etcdctl endpoint status and member list over all endpoints', async () => {
    const endpoints = nodes.map((n) => n.member.endpoint).join(',');
    const status = await etcdctl(endpoints, ['endpoint', 'status', '-w', 'json']);
    expect(status.code).toBe(0);
    const rows = JSON.parse(status.stdout) as { Endpoint: string; Status: { leader: number } }[];
    expect(rows.map((r) => r.Endpoint).sort()).toEqual(nodes.map((n) => n.member.endpoint).sort());
    // Each member reports itself; the leader ids (JSON numbers, so only compared among themselves) agree.
    const leaders = /"leader":(\d+)/g;
    expect(new Set([...status.stdout.matchAll(leaders)].map((m) => m[1])).size).toBe(1);

    // Members publish their client URLs through the log after they start, as etcd's do.
    const health = await etcdctl(endpoints, ['endpoint', 'health']);
    expect(health.code).toBe(0);
    expect(health.stderr.match(/is healthy: successfully committed proposal/g)).toHaveLength(3);
    const hashkv = await etcdctl(endpoints, ['endpoint', 'hashkv', '-w', 'json']);
    expect(hashkv.code).toBe(0);
    const hashes = (JSON.parse(hashkv.stdout) as { HashKV: { hash: number } }[]).map((r) => r.HashKV.hash);
    expect(hashes).toHaveLength(3);
    expect(new Set(hashes).size).toBe(1);

    let list = await etcdctl(endpoints, ['member', 'list', '-w', 'simple']);
    for (let i = 0; i < 100 && list.stdout.includes(', , false'); i++) {
      await sleep(100);
      list = await etcdctl(endpoints, ['member', 'list', '-w', 'simple']);
    }
    expect(list.code).toBe(0);
    const lines = list.stdout.trim().split('\n').sort();
    expect(lines).toHaveLength(3);
    for (const [i, n] of nodes.entries()) {
      const line = lines.find((l) => l.includes(`, m${i + 1}, `));
      expect(line).toBeDefined();
      // Every member published its client URL through the log.
      expect(line).toContain(`http://${n.member.endpoint}`);
      expect(line).toContain('started');
    }
  });

  it('elects a new leader when the leader is killed; acknowledged writes survive; the old leader catches up', async () => {
    const leaderId = await agreedLeader(nodes);
    const ids = await Promise.all(nodes.map(memberId));
    const li = ids.indexOf(leaderId);
    const acked: string[] = [];
    for (let i = 0; i < 20; i++) {
      await nodes[(li + 1) % 3].api.kv.Put({
        key: Buffer.from(`before-${i}`),
        value: Buffer.from(String(i)),
      });
      acked.push(`before-${i}`);
    }
    await nodes[li].member.kill('SIGKILL');
    nodes[li].api.close();
    const survivors = nodes.filter((_, i) => i !== li);
    const newLeader = await agreedLeader(survivors, leaderId);
    expect(newLeader).not.toBe(leaderId);
    for (const n of survivors) {
      for (const key of acked) expect(await get(n, key)).toBe(key.slice('before-'.length));
    }
    for (const [i, n] of survivors.entries()) {
      await n.api.kv.Put({ key: Buffer.from(`after-${i}`), value: Buffer.from('new') });
    }

    // The killed member restarts from its data directory and catches up from the leader's log.
    const restarted = await nodes[li].member.restart();
    nodes[li] = { member: restarted, api: connect(restarted.endpoint) };
    expect(await memberId(nodes[li])).toBe(leaderId);
    for (const key of [...acked, 'after-0', 'after-1']) expect(await get(nodes[li], key)).toBeDefined();
    expect(await get(nodes[li], 'after-1')).toBe('new');
    await agreedLeader(nodes);
  });
});

describe('a follower that was down for more writes than the leader keeps in memory', () => {
  let nodes: Node[];
  beforeAll(async () => {
    nodes = await open('cairn', 3);
  });
  afterAll(() => close(nodes));

  it('catches up from the log on disk (no truncation yet) to the same data and HashKV', async () => {
    const leaderId = await agreedLeader(nodes);
    const ids = await Promise.all(nodes.map(memberId));
    const li = ids.indexOf(leaderId);
    const fi = (li + 1) % 3;
    await nodes[fi].member.kill('SIGKILL');
    nodes[fi].api.close();
    // Well past the leader's in-memory tail (MIRRORED_APPLIED_ENTRIES, 1024 applied entries).
    const writes = 3000;
    for (let i = 0; i < writes; i += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, k) =>
          nodes[li].api.kv.Put({ key: Buffer.from(`lag-${i + k}`), value: Buffer.from(String(i + k)) }),
        ),
      );
    }
    const restarted = await nodes[fi].member.restart();
    nodes[fi] = { member: restarted, api: connect(restarted.endpoint) };
    // Linearizable reads wait until the member has applied everything committed before them.
    expect(await get(nodes[fi], `lag-${writes - 1}`)).toBe(String(writes - 1));
    expect(await get(nodes[fi], 'lag-0')).toBe('0');
    const { header } = await nodes[li].api.kv.Range({ key: Buffer.from('lag-0') });
    for (const n of nodes) await get(n, 'lag-0');
    const hashes = await Promise.all(
      nodes.map((n) => n.api.maintenance.HashKV({ revision: String(header.revision) })),
    );
    expect(new Set(hashes.map((h) => String(h.hash))).size).toBe(1);
    const count = await nodes[fi].api.kv.Range({
      key: Buffer.from('lag-'),
      range_end: Buffer.from('lag.'),
      count_only: true,
      serializable: true,
    });
    expect(Number(count.count)).toBe(writes);
    // It caught up from the log: the leader never had to send a snapshot.
    expect(nodes[li].member.log()).not.toMatch(/sent a snapshot/);
    expect(nodes[fi].member.log()).not.toMatch(/installing a snapshot/);
  });
});

describe('a 5-member cluster', () => {
  let nodes: Node[];
  beforeAll(async () => {
    nodes = await open('cairn', 5);
  });
  afterAll(() => close(nodes));

  it('keeps serving writes and linearizable reads with two members down (the leader among them)', async () => {
    const leaderId = await agreedLeader(nodes);
    const ids = await Promise.all(nodes.map(memberId));
    const li = ids.indexOf(leaderId);
    const down = [li, (li + 1) % 5];
    await Promise.all(down.map((i) => nodes[i].member.kill('SIGKILL')));
    const survivors = nodes.filter((_, i) => !down.includes(i));
    await agreedLeader(survivors, leaderId);
    for (const [i, n] of survivors.entries()) {
      await n.api.kv.Put({ key: Buffer.from(`five-${i}`), value: Buffer.from(String(i)) });
    }
    for (const n of survivors) {
      for (let i = 0; i < survivors.length; i++) expect(await get(n, `five-${i}`)).toBe(String(i));
    }
  });
});

describe('a member that lost its quorum', () => {
  let nodes: Node[];
  beforeAll(async () => {
    nodes = await open('cairn', 3);
  });
  afterAll(() => close(nodes));

  it('fails writes and linearizable reads as etcd does once they waited for a leader; serializable reads still work', async () => {
    await nodes[0].api.kv.Put({ key: Buffer.from('k'), value: Buffer.from('v') });
    for (const n of nodes) await get(n, 'k');
    await Promise.all([nodes[1].member.kill('SIGKILL'), nodes[2].member.kill('SIGKILL')]);
    const alone = nodes[0];
    // Check-quorum: a leader without a quorum steps down within an election timeout.
    for (let i = 0; i < 100 && String((await alone.api.maintenance.Status({})).leader) !== '0'; i++)
      await sleep(100);
    expect(String((await alone.api.maintenance.Status({})).leader)).toBe('0');
    // As etcd 3.4's: both wait the request timeout for a leader, then fail.
    const [put, read] = await Promise.all([
      settle(alone.api.kv.Put({ key: Buffer.from('k'), value: Buffer.from('lost') })),
      settle(alone.api.kv.Range({ key: Buffer.from('k') })),
    ]);
    expect(put.error).toEqual({ code: 2, details: 'context deadline exceeded' });
    expect(read.error).toEqual({ code: 14, details: 'etcdserver: request timed out' });
    expect(await get(alone, 'k', true)).toBe('v');
  });
});

describe('membership changes in a running cluster', () => {
  let nodes: Node[];
  let joined: Node | undefined;
  beforeAll(async () => {
    nodes = await open('cairn', 3);
  });
  afterAll(async () => {
    await close(joined ? [...nodes, joined] : nodes);
  });

  it('adds a learner that joins with --initial-cluster-state existing, catches up, is promoted, then a member is removed', async () => {
    for (let i = 0; i < 50; i++)
      await nodes[i % 3].api.kv.Put({ key: Buffer.from(`grow-${i}`), value: Buffer.from(String(i)) });
    const leaderId = await agreedLeader(nodes);
    const ids = await Promise.all(nodes.map(memberId));
    const follower = nodes[(ids.indexOf(leaderId) + 1) % 3];

    const ports = { client: await freePort(), peer: await freePort() };
    const peerUrl = `http://127.0.0.1:${ports.peer}`;
    const added = await whileUnhealthy(
      () => etcdctl(follower.member.endpoint, ['member', 'add', 'm4', '--learner', `--peer-urls=${peerUrl}`]),
      (r) => r.stderr,
    );
    expect(added.code).toBe(0);
    const initialCluster = /ETCD_INITIAL_CLUSTER="(.*)"/.exec(added.stdout)?.[1];
    expect(initialCluster).toContain(`m4=${peerUrl}`);
    const newId = BigInt(`0x${/Member +([0-9a-f]+) added/.exec(added.stdout)![1]}`).toString();

    const m4 = await startMember('cairn', {
      name: 'm4',
      ports,
      initialCluster,
      extraArgs: ['--initial-cluster-state', 'existing', ...FAST_RAFT],
    });
    joined = { member: m4, api: connect(m4.endpoint) };
    const status = await joined.api.maintenance.Status({});
    expect(String(status.header.member_id)).toBe(newId);
    expect(status.isLearner).toBe(true);
    expect(String(status.header.cluster_id)).toBe(
      String((await follower.api.maintenance.Status({})).header.cluster_id),
    );
    // A learner replicates everything, serves serializable reads, refuses the rest as etcd does.
    for (let i = 0; i < 100 && (await get(joined, 'grow-49', true)) === undefined; i++) await sleep(100);
    for (let i = 0; i < 50; i++) expect(await get(joined, `grow-${i}`, true)).toBe(String(i));
    const learnerError = { code: 14, details: 'etcdserver: rpc not supported for learner' };
    expect((await settle(joined.api.kv.Range({ key: Buffer.from('grow-1') }))).error).toEqual(learnerError);
    expect(
      (await settle(joined.api.kv.Put({ key: Buffer.from('x'), value: Buffer.from('y') }))).error,
    ).toEqual(learnerError);

    // Promoted through a follower (the leader decides: the learner is in sync by now).
    let promoted = await settle(follower.api.cluster.MemberPromote({ ID: newId }));
    for (let i = 0; i < 50 && promoted.error; i++) {
      await sleep(100);
      promoted = await settle(follower.api.cluster.MemberPromote({ ID: newId }));
    }
    expect(promoted.error).toBeUndefined();
    expect(promoted.ok.members.find((m: { ID: string }) => String(m.ID) === newId)?.isLearner).toBe(false);
    for (let i = 0; i < 50 && (await joined.api.maintenance.Status({})).isLearner; i++) await sleep(100);
    await joined.api.kv.Put({ key: Buffer.from('from-m4'), value: Buffer.from('voter') });
    for (const n of [...nodes, joined]) expect(await get(n, 'from-m4')).toBe('voter');
    const list = await etcdctl(nodes.map((n) => n.member.endpoint).join(','), ['member', 'list']);
    expect(list.stdout.trim().split('\n')).toHaveLength(4);
    expect(list.stdout).toContain(`, started, m4, ${peerUrl}, http://${m4.endpoint}, false`);

    // Remove a follower that is not m4; the three left go on.
    const victim = nodes.find((n, i) => ids[i] !== leaderId && n !== follower)!;
    const victimId = ids[nodes.indexOf(victim)];
    const removed = await follower.api.cluster.MemberRemove({ ID: victimId });
    expect(removed.members.map((m: { ID: string }) => String(m.ID))).not.toContain(victimId);
    await victim.member.kill('SIGKILL');
    const rest = [...nodes.filter((n) => n !== victim), joined];
    await rest[0].api.kv.Put({ key: Buffer.from('after-remove'), value: Buffer.from('ok') });
    for (const n of rest) {
      expect(await get(n, 'after-remove')).toBe('ok');
      const members = (await n.api.cluster.MemberList({})).members.map((m: { ID: string }) => String(m.ID));
      expect(members.sort()).toEqual([...ids.filter((id) => id !== victimId), newId].sort());
    }
    // A removed id cannot come back.
    const again = await settle(follower.api.cluster.MemberRemove({ ID: victimId }));
    expect(again.error).toEqual({ code: 5, details: 'etcdserver: member not found' });

    // The new configuration survives restarts: m4 restarts as a voter of the same three.
    joined.api.close();
    const restarted = await joined.member.restart();
    joined = { member: restarted, api: connect(restarted.endpoint) };
    const after = await joined.api.maintenance.Status({});
    expect(after.isLearner).toBe(false);
    const members = (await joined.api.cluster.MemberList({})).members.map((m: { ID: string }) =>
      String(m.ID),
    );
    expect(members.sort()).toEqual([...ids.filter((id) => id !== victimId), newId].sort());
    await joined.api.kv.Put({ key: Buffer.from('after-restart'), value: Buffer.from('ok') });
    expect(await get(rest[0], 'after-restart')).toBe('ok');
  });
});

describe('a member started with another --initial-cluster-token', () => {
  it('belongs to another cluster: its peers refuse it, clearly, and the other two serve', async () => {
    const specs = await memberSpecs(3);
    const initialCluster = initialClusterOf(specs);
    const start = (i: number, token: string, readyTimeoutMs?: number) =>
      startMember('cairn', {
        ...specs[i],
        initialCluster,
        readyTimeoutMs,
        extraArgs: ['--initial-cluster-token', token, ...FAST_RAFT],
      });
    const good = await Promise.allSettled([start(0, 'right'), start(1, 'right'), start(2, 'wrong', 15_000)]);
    const [a, b, odd] = good;
    try {
      expect(a.status).toBe('fulfilled');
      expect(b.status).toBe('fulfilled');
      // The odd one never hears from a leader of its own cluster, so it never serves.
      expect(odd.status).toBe('rejected');
      expect(String((odd as PromiseRejectedResult).reason)).toMatch(/cluster ID mismatch/);
      const nodes = [a, b].map((r) => (r as PromiseFulfilledResult<MemberProcess>).value);
      expect(nodes[0].log() + nodes[1].log()).toMatch(/refused a peer from another cluster/);
      const api = connect(nodes[0].endpoint);
      await api.kv.Put({ key: Buffer.from('k'), value: Buffer.from('v') });
      api.close();
    } finally {
      await Promise.all(good.map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)));
    }
  });
});

describe('--force-new-cluster', () => {
  let nodes: Node[];
  beforeAll(async () => {
    nodes = await open('cairn', 3);
  });
  afterAll(() => close(nodes));

  it('restarts a member of a dead cluster as a cluster of one with everything committed', async () => {
    for (let i = 0; i < 20; i++)
      await nodes[i % 3].api.kv.Put({ key: Buffer.from(`keep-${i}`), value: Buffer.from(String(i)) });
    // --force-new-cluster keeps what this member knew to be committed and drops its log past
    // that (as etcd does): a write acknowledged by the other two may not have reached it yet.
    // Once it serves the last write locally, it has applied, and so recorded, all of them.
    for (let i = 0; i < 100 && (await get(nodes[0], 'keep-19', true)) !== '19'; i++) await sleep(50);
    expect(await get(nodes[0], 'keep-19', true)).toBe('19');
    const { cluster_id: clusterId, member_id: id } = (await nodes[0].api.maintenance.Status({})).header;
    await Promise.all(nodes.map((n) => n.member.kill('SIGKILL')));
    nodes[0].api.close();
    const alone = await nodes[0].member.restart(['--force-new-cluster']);
    nodes[0] = { member: alone, api: connect(alone.endpoint) };
    const status = await nodes[0].api.maintenance.Status({});
    expect(String(status.leader)).toBe(String(id));
    expect(String(status.header.cluster_id)).toBe(String(clusterId));
    const members = (await nodes[0].api.cluster.MemberList({})).members;
    expect(members.map((m: { ID: string }) => String(m.ID))).toEqual([String(id)]);
    for (let i = 0; i < 20; i++) expect(await get(nodes[0], `keep-${i}`)).toBe(String(i));
    await nodes[0].api.kv.Put({ key: Buffer.from('after-force'), value: Buffer.from('ok') });
    // A later restart without the flag stays a cluster of one.
    nodes[0].api.close();
    const again = await nodes[0].member.restart();
    nodes[0] = { member: again, api: connect(again.endpoint) };
    expect(await get(nodes[0], 'after-force')).toBe('ok');
    expect((await nodes[0].api.cluster.MemberList({})).members).toHaveLength(1);
  });
});

describe('a leader cut off from its followers', () => {
  let nodes: Node[];
  beforeAll(async () => {
    nodes = await open('cairn', 3);
  });
  afterAll(async () => {
    for (const n of nodes ?? []) n.member.child.kill('SIGCONT');
    await close(nodes);
  });

  it("fails a write it cannot commit with etcd's request timeout instead of hanging", async () => {
    const leaderId = await agreedLeader(nodes);
    const ids = await Promise.all(nodes.map(memberId));
    const leader = nodes[ids.indexOf(leaderId)];
    // Frozen followers: the leader appends the write but never hears back.
    for (const n of nodes) if (n !== leader) n.member.child.kill('SIGSTOP');
    const put = await settle(leader.api.kv.Put({ key: Buffer.from('never'), value: Buffer.from('x') }));
    expect(put.error).toEqual({ code: 14, details: 'etcdserver: request timed out' });
    for (const n of nodes) if (n !== leader) n.member.child.kill('SIGCONT');
    // Back together, the cluster serves again.
    await agreedLeader(nodes);
    let ok = await settle(leader.api.kv.Put({ key: Buffer.from('again'), value: Buffer.from('y') }));
    for (let i = 0; i < 50 && ok.error; i++) {
      await sleep(100);
      ok = await settle(leader.api.kv.Put({ key: Buffer.from('again'), value: Buffer.from('y') }));
    }
    expect(ok.error).toBeUndefined();
  });
});

describe('kill -9 of the leader under a continuous write load', () => {
  let nodes: Node[];
  beforeAll(async () => {
    nodes = await open('cairn', 3);
  });
  afterAll(() => close(nodes));

  /** Every key under `prefix` the member holds (a linearizable read). */
  async function keysOn(n: Node, prefix: string): Promise<Set<string>> {
    const res = await n.api.kv.Range({
      key: Buffer.from(prefix),
      range_end: Buffer.from(prefix.slice(0, -1) + '0'),
    });
    return new Set(res.kvs.map((kv: { key: Buffer }) => text(kv.key)));
  }

  it('keeps every acknowledged write on every member, the restarted old leader included', async () => {
    const leaderId = await agreedLeader(nodes);
    const ids = await Promise.all(nodes.map(memberId));
    const li = ids.indexOf(leaderId);
    const acked: string[] = [];
    let writing = true;
    // One writer per member, each waiting for its previous write: failures (the dead member,
    // the election) are expected and not counted as acknowledged.
    const writers = nodes.map(async (n, w) => {
      for (let i = 0; writing; i++) {
        const key = `load/${w}/${i}`;
        const r = await settle(n.api.kv.Put({ key: Buffer.from(key), value: Buffer.from('v') }));
        if (!r.error) acked.push(key);
        else await sleep(20);
      }
    });
    await sleep(1000);
    const before = acked.length;
    await nodes[li].member.kill('SIGKILL');
    const survivors = nodes.filter((_, i) => i !== li);
    await agreedLeader(survivors, leaderId);
    const atElection = acked.length;
    // Writes go on through the new leader. A writer whose put was forwarded to the dead leader
    // first waits out etcd's request timeout (5 s + 2 election timeouts), hence the long bound.
    for (let i = 0; i < 600 && acked.length < atElection + 20; i++) await sleep(50);
    writing = false;
    await Promise.all(writers);
    expect(before).toBeGreaterThan(0);
    expect(acked.length).toBeGreaterThan(atElection);

    for (const n of survivors) {
      const held = await keysOn(n, 'load/');
      expect(acked.filter((k) => !held.has(k))).toEqual([]);
    }
    nodes[li].api.close();
    const restarted = await nodes[li].member.restart();
    nodes[li] = { member: restarted, api: connect(restarted.endpoint) };
    const held = await keysOn(nodes[li], 'load/');
    expect(acked.filter((k) => !held.has(k))).toEqual([]);
  });
});
