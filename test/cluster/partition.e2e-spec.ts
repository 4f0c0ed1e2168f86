// Network partitions between the members of a 3-member cluster, cut through a fault-injecting
// proxy on the peer links (test/support/fault-proxy.ts). The same scenarios run on etcd 3.4 and
// on Cairn: an isolated member refuses what needs a quorum with etcd's errors, the majority goes
// on, and after the heal the member rejoins without disrupting the leader (pre-vote) and catches up.
// A member removed while cut off from the leader still learns of its removal, and stops.
import { EtcdApi, connect, settle } from '../support/etcd-api';
import { PeerNetwork } from '../support/fault-proxy';
import {
  FAST_RAFT,
  MEMBER_REMOVED_MESSAGE,
  MemberKind,
  MemberProcess,
  exitStatus,
  startCluster,
} from '../support/members';

jest.setTimeout(120_000);

interface Node {
  name: string;
  member: MemberProcess;
  api: EtcdApi;
}

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));
const text = (b: Buffer | string | undefined) => Buffer.from(b ?? '').toString();
/** FAST_RAFT's election timeout. */
const ELECTION_MS = 500;

async function status(n: Node): Promise<{ id: string; leader: string; term: string }> {
  const s = await n.api.maintenance.Status({});
  return { id: String(s.header.member_id), leader: String(s.leader), term: String(s.raftTerm) };
}

/** Polls until the given members agree on one leader among them (not `notId`); returns its id. */
async function agreedLeader(nodes: Node[], notId?: string): Promise<string> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const all = await Promise.all(nodes.map((n) => settle(status(n))));
    const leaders = new Set(all.map((s) => (s.ok ? s.ok.leader : 'error')));
    const [leader] = leaders;
    if (leaders.size === 1 && leader !== '0' && leader !== 'error' && leader !== notId) return leader;
    await sleep(100);
  }
  throw new Error('members did not agree on a leader');
}

async function put(n: Node, key: string, value: string) {
  return settle(n.api.kv.Put({ key: Buffer.from(key), value: Buffer.from(value) }));
}

async function get(n: Node, key: string, serializable = false): Promise<string | undefined> {
  const res = await n.api.kv.Range({ key: Buffer.from(key), serializable });
  return res.kvs.length > 0 ? text(res.kvs[0].value) : undefined;
}

/** Retries a linearizable read until it answers `want` (a rejoining member catching up). */
async function eventually(n: Node, key: string, want: string): Promise<string | undefined> {
  let got: string | undefined;
  for (let i = 0; i < 100; i++) {
    const r = await settle(n.api.kv.Range({ key: Buffer.from(key) }));
    got = r.ok?.kvs.length ? text(r.ok.kvs[0].value) : undefined;
    if (got === want) break;
    await sleep(100);
  }
  return got;
}

describe.each<MemberKind>(['etcd', 'cairn'])('%s: partitions of a 3-member cluster', (kind) => {
  let net: PeerNetwork;
  let nodes: Node[];

  beforeAll(async () => {
    net = await PeerNetwork.create(['m1', 'm2', 'm3']);
    // etcd 3.4 pre-votes only when asked to; Cairn always does.
    const extraArgs = kind === 'etcd' ? [...FAST_RAFT, '--pre-vote'] : FAST_RAFT;
    const members = await startCluster(kind, 3, { extraArgs, network: net });
    nodes = members.map((member, i) => ({ name: `m${i + 1}`, member, api: connect(member.endpoint) }));
  });
  afterAll(async () => {
    for (const n of nodes ?? []) n.api.close();
    await Promise.all((nodes ?? []).map((n) => n.member.stop()));
    await net?.close();
  });

  async function roles(): Promise<{ leader: Node; followers: Node[]; leaderId: string; term: string }> {
    const leaderId = await agreedLeader(nodes);
    const all = await Promise.all(nodes.map(status));
    const leader = nodes[all.findIndex((s) => s.id === leaderId)];
    return {
      leader,
      followers: nodes.filter((n) => n !== leader),
      leaderId,
      term: all.find((s) => s.id === leaderId)!.term,
    };
  }

  it('an isolated follower refuses writes and linearizable reads, still answers serializable reads; it rejoins without disrupting the leader', async () => {
    const { leader, followers, leaderId, term } = await roles();
    const [lonely, other] = followers;
    expect((await put(leader, 'p/before', 'old')).error).toBeUndefined();
    expect(await eventually(lonely, 'p/before', 'old')).toBe('old');

    net.isolate(lonely.name);
    await sleep(3 * ELECTION_MS);
    // Both wait the request timeout for a leader, then fail as etcd 3.4's do.
    const [write, read] = await Promise.all([
      put(lonely, 'p/lonely', 'x'),
      settle(lonely.api.kv.Range({ key: Buffer.from('p/before') })),
    ]);
    expect(write.error).toEqual({ code: 2, details: 'context deadline exceeded' });
    expect(read.error).toEqual({ code: 14, details: 'etcdserver: request timed out' });
    expect(await get(lonely, 'p/before', true)).toBe('old');

    // The majority keeps serving.
    expect((await put(leader, 'p/before', 'new')).error).toBeUndefined();
    expect((await put(other, 'p/majority', 'yes')).error).toBeUndefined();
    expect(await get(other, 'p/before')).toBe('new');
    expect(await get(lonely, 'p/before', true)).toBe('old');

    net.heal();
    expect(await eventually(lonely, 'p/before', 'new')).toBe('new');
    expect(await get(lonely, 'p/majority')).toBe('yes');
    expect(await get(lonely, 'p/lonely')).toBeUndefined();
    // Pre-vote: the member that kept timing out did not force an election on its return.
    const after = await Promise.all(nodes.map(status));
    for (const s of after) expect({ leader: s.leader, term: s.term }).toEqual({ leader: leaderId, term });
  });

  it('a write made while the member has no leader waits for one and succeeds once the partition heals', async () => {
    const { followers } = await roles();
    const [lonely] = followers;
    net.isolate(lonely.name);
    for (let i = 0; i < 100 && (await status(lonely)).leader !== '0'; i++) await sleep(100);
    const waiting = put(lonely, 'p/waited', 'yes');
    await sleep(2 * ELECTION_MS);
    net.heal();
    const { error } = await waiting;
    // etcd 3.4's own outcome depends on how fast its peer streams come back after the heal: on a
    // loaded machine the write sometimes runs out its request timeout instead. Cairn must succeed.
    const etcdTimedOut =
      kind === 'etcd' &&
      JSON.stringify(error) ===
        JSON.stringify({
          code: 14,
          details: 'etcdserver: request timed out, possibly due to connection lost',
        });
    if (etcdTimedOut) return;
    expect(error).toBeUndefined();
    expect(await get(lonely, 'p/waited')).toBe('yes');
  });

  it('an isolated leader steps down and its pending write fails; the majority elects a new one; after the heal it follows', async () => {
    const { leader, followers, leaderId, term } = await roles();
    net.isolate(leader.name);
    const pending = put(leader, 'p/stranded', 'x');
    const newLeader = await agreedLeader(followers, leaderId);
    expect(newLeader).not.toBe(leaderId);
    expect((await put(followers[0], 'p/new-leader', 'yes')).error).toBeUndefined();
    // Check-quorum: the old leader stops believing it leads.
    let old = await status(leader);
    for (let i = 0; i < 100 && old.leader === leaderId; i++) {
      await sleep(100);
      old = await status(leader);
    }
    expect(old.leader).not.toBe(leaderId);
    const stranded = await pending;
    expect(stranded.error).toEqual({ code: 14, details: 'etcdserver: request timed out' });

    net.heal();
    expect(await agreedLeader(nodes)).toBe(newLeader);
    expect(await eventually(leader, 'p/new-leader', 'yes')).toBe('yes');
    expect(await get(leader, 'p/stranded')).toBeUndefined();
    const after = await Promise.all(nodes.map(status));
    expect(new Set(after.map((s) => s.term)).size).toBe(1);
    expect(BigInt(after[0].term)).toBeGreaterThan(BigInt(term));
  });

  it('a follower that stops hearing the leader (one-way cut) does not depose it; writes go on', async () => {
    const { leader, followers, leaderId, term } = await roles();
    const [deaf, other] = followers;
    net.cut(leader.name, deaf.name);
    await sleep(4 * ELECTION_MS);
    expect((await put(leader, 'p/one-way', '1')).error).toBeUndefined();
    expect(await get(other, 'p/one-way')).toBe('1');
    const ls = await status(leader);
    expect({ leader: ls.leader, term: ls.term }).toEqual({ leader: leaderId, term });
    net.heal();
    expect(await eventually(deaf, 'p/one-way', '1')).toBe('1');
    expect(await agreedLeader(nodes)).toBe(leaderId);
  });
});

describe.each<MemberKind>(['etcd', 'cairn'])('%s: a member removed while cut off from the leader', (kind) => {
  let net: PeerNetwork;
  let nodes: Node[] = [];

  afterAll(async () => {
    for (const n of nodes) n.api.close();
    await Promise.all(nodes.map((n) => n.member.stop()));
    await net?.close();
  });

  it('never hears that its removal committed from the leader, is told by the member it still reaches, and exits 0', async () => {
    net = await PeerNetwork.create(['m1', 'm2', 'm3']);
    const extraArgs = kind === 'etcd' ? [...FAST_RAFT, '--pre-vote'] : FAST_RAFT;
    const members = await startCluster(kind, 3, { extraArgs, network: net });
    nodes = members.map((member, i) => ({ name: `m${i + 1}`, member, api: connect(member.endpoint) }));
    const leaderId = await agreedLeader(nodes);
    const ids = await Promise.all(nodes.map(async (n) => (await status(n)).id));
    const leader = nodes[ids.indexOf(leaderId)];
    const [removed, other] = nodes.filter((n) => n !== leader);
    // Strict reconfiguration counts members connected for etcd's health interval (5 s).
    await sleep(6000);
    net.cut(leader.name, removed.name);
    net.cut(removed.name, leader.name);
    // It pre-votes, so its stream to the other member is open (its pre-votes refused) before the removal:
    // the removal must reach it on that stream, not only on a new one.
    await sleep(4 * ELECTION_MS);
    // Through the member still connected to everyone, so the strict check counts all three.
    await other.api.cluster.MemberRemove({ ID: ids[nodes.indexOf(removed)] });
    expect(await exitStatus(removed.member.child)).toBe(0);
    expect(removed.member.log()).toContain(MEMBER_REMOVED_MESSAGE);
    expect((await put(other, 'p/after-remove', 'ok')).error).toBeUndefined();
    expect(await get(leader, 'p/after-remove')).toBe('ok');
  });
});
