// A cluster grows 1→3→5 and shrinks back 5→3→1 through MemberAdd / MemberRemove while a client
// writes all along: members join with --initial-cluster-state existing, as learners promoted
// once in sync or straight as voters. Every acknowledged write survives and HashKV agrees.
import { EtcdApi, connect, settle } from '../support/etcd-api';
import { FAST_RAFT, MemberProcess, freePort, startCluster, startMember } from '../support/members';

jest.setTimeout(180_000);

interface Node {
  name: string;
  id: string;
  member: MemberProcess;
  api: EtcdApi;
}

interface ApiMember {
  ID: string;
  name: string;
  peerURLs: string[];
}

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));
const text = (b: Buffer | string | undefined) => Buffer.from(b ?? '').toString();

/** Retries `call` while it fails with one of the `transient` messages; returns the last result. */
async function retrying(call: () => Promise<any>, transient: RegExp): Promise<any> {
  let r = await settle(call());
  for (let i = 0; i < 100 && r.error && transient.test(r.error.details); i++) {
    await sleep(100);
    r = await settle(call());
  }
  return r;
}

describe('growing 1→3→5 and shrinking 5→3→1 under a continuous write load', () => {
  const nodes: Node[] = [];
  afterAll(async () => {
    for (const n of nodes) n.api.close();
    await Promise.all(nodes.map((n) => n.member.stop()));
  });

  /** MemberAdd through `via`, then starts the new member with the cluster etcdctl would print. */
  async function join(via: Node, name: string, learner: boolean): Promise<Node> {
    const ports = { client: await freePort(), peer: await freePort() };
    const peerUrl = `http://127.0.0.1:${ports.peer}`;
    // etcd refuses a voter while too few members have started (a member that just joined may not
    // have published yet), and any change until it has been connected to every voter for 5 s.
    const added = await retrying(
      () => via.api.cluster.MemberAdd({ peerURLs: [peerUrl], isLearner: learner }),
      /not enough started members|unhealthy cluster|request timed out|leader changed/,
    );
    expect(added.error).toBeUndefined();
    const id = String(added.ok.member.ID);
    const initialCluster = (added.ok.members as ApiMember[])
      .flatMap((m) => m.peerURLs.map((u) => `${String(m.ID) === id ? name : m.name}=${u}`))
      .join(',');
    const member = await startMember('cairn', {
      name,
      ports,
      initialCluster,
      extraArgs: ['--initial-cluster-state', 'existing', ...FAST_RAFT],
    });
    const node = { name, id, member, api: connect(member.endpoint) };
    nodes.push(node);
    if (learner) {
      // Promotable once in sync with the leader.
      const promoted = await retrying(
        () => via.api.cluster.MemberPromote({ ID: id }),
        /can only promote a learner member which is in sync with leader|request timed out|leader changed/,
      );
      expect(promoted.error).toBeUndefined();
    }
    expect((await node.api.maintenance.Status({})).header.member_id).toBe(id);
    return node;
  }

  async function remove(via: Node, node: Node): Promise<void> {
    const removed = await retrying(
      () => via.api.cluster.MemberRemove({ ID: node.id }),
      /not enough started members|unhealthy cluster|request timed out|leader changed/,
    );
    expect(removed.error).toBeUndefined();
    nodes.splice(nodes.indexOf(node), 1);
    node.api.close();
    await node.member.stop();
  }

  /**
   * The same HashKV on every member at one recent revision (each applied it: a linearizable read
   * first). A read waiting for its read index when the leader changes (right after the leader
   * was removed) fails with etcd's "leader changed", which clients retry: so does this.
   */
  async function expectSameHash(members: Node[]): Promise<void> {
    const read = async (n: Node) => {
      const r = await retrying(() => n.api.kv.Range({ key: Buffer.from('x') }), /leader changed|no leader/);
      expect(r.error).toBeUndefined();
      return r.ok;
    };
    const { header } = await read(members[0]);
    for (const n of members) await read(n);
    const hashes = await Promise.all(
      members.map((n) => n.api.maintenance.HashKV({ revision: String(header.revision) })),
    );
    expect(new Set(hashes.map((h) => String(h.hash))).size).toBe(1);
    const ids = (await members[0].api.cluster.MemberList({})).members.map((m: ApiMember) => String(m.ID));
    expect(ids.sort()).toEqual(members.map((n) => n.id).sort());
  }

  it('keeps every acknowledged write and one HashKV across members', async () => {
    const [first] = await startCluster('cairn', 1, { extraArgs: FAST_RAFT });
    const api = connect(first.endpoint);
    const m1: Node = {
      name: 'm1',
      id: String((await api.maintenance.Status({})).header.member_id),
      member: first,
      api,
    };
    nodes.push(m1);

    const acked: string[] = [];
    const failures: string[] = [];
    let writing = true;
    // Paced, so the leader's log stays short (joining needs an untruncated log).
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        const key = `grow/${String(i).padStart(6, '0')}`;
        const r = await settle(m1.api.kv.Put({ key: Buffer.from(key), value: Buffer.from(String(i)) }));
        if (r.error) failures.push(r.error.details);
        else acked.push(key);
        await sleep(10);
      }
    })();

    const m2 = await join(m1, 'm2', true);
    const m3 = await join(m1, 'm3', false);
    await expectSameHash(nodes);
    const m4 = await join(m2, 'm4', false);
    const m5 = await join(m3, 'm5', true);
    await expectSameHash(nodes);
    const atFive = acked.length;

    // The leader itself goes first: it hands over to m5, which is then removed while leading.
    const leader = String((await m1.api.maintenance.Status({})).leader);
    const leaderNode = nodes.find((n) => n.id === leader)!;
    expect((await settle(leaderNode.api.maintenance.MoveLeader({ targetID: m5.id }))).error).toBeUndefined();
    expect(String((await m5.api.maintenance.Status({})).leader)).toBe(m5.id);
    await remove(m1, m5);
    await remove(m2, m4);
    await expectSameHash(nodes);
    await remove(m1, m3);
    await remove(m1, m2);
    expect(nodes).toEqual([m1]);
    for (let i = 0; i < 100 && acked.length < atFive + 20; i++) await sleep(50);
    writing = false;
    await writer;
    expect(acked.length).toBeGreaterThan(atFive);

    const res = await m1.api.kv.Range({ key: Buffer.from('grow/'), range_end: Buffer.from('grow0') });
    const held = new Set(res.kvs.map((kv: { key: Buffer }) => text(kv.key)));
    expect(acked.filter((k) => !held.has(k))).toEqual([]);
    // A lone member again: writes commit on its own.
    const status = await m1.api.maintenance.Status({});
    expect(String(status.leader)).toBe(m1.id);
    // Writes may fail only with etcd's transient errors of a leader change (raft drops proposals during a transfer).
    for (const f of failures)
      expect(f).toMatch(
        /^(etcdserver: leader changed|etcdserver: request timed out.*|raft proposal dropped)$/,
      );
  });
});
