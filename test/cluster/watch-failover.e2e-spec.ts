// A watcher on a follower while the leader is killed and replaced: it receives every event
// exactly once and in revision order, every acknowledged write among them; a second watcher
// resuming from a revision + 1 after a cut sees exactly the rest.
import { connect, EtcdApi, settle } from '../support/etcd-api';
import { FAST_RAFT, MemberProcess, startCluster } from '../support/members';
import { openWatch } from '../support/watch-client';

jest.setTimeout(180_000);

interface Node {
  member: MemberProcess;
  api: EtcdApi;
  id: string;
}

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));
const PREFIX = 'fo/';

let nodes: Node[];

beforeAll(async () => {
  const members = await startCluster('cairn', 3, { extraArgs: FAST_RAFT });
  nodes = await Promise.all(
    members.map(async (member) => {
      const api = connect(member.endpoint);
      return { member, api, id: String((await api.maintenance.Status({})).header.member_id) };
    }),
  );
});

afterAll(async () => {
  for (const n of nodes ?? []) n.api.close();
  await Promise.all((nodes ?? []).map((n) => n.member.stop()));
});

async function leaderOf(live: Node[], notId?: string): Promise<Node> {
  for (let attempt = 0; attempt < 300; attempt++) {
    const statuses = await Promise.all(live.map((n) => settle(n.api.maintenance.Status({}))));
    const leaders = new Set(statuses.map((s) => (s.ok ? String(s.ok.leader) : 'error')));
    const [leader] = leaders;
    const node = live.find((n) => n.id === leader);
    if (leaders.size === 1 && node && leader !== notId) return node;
    await sleep(100);
  }
  throw new Error('no agreed leader');
}

/** Every event the watch stream delivered, as [revision, key]. */
function delivered(responses: any[]): [number, string][] {
  return responses.flatMap((r) =>
    r.events.map(
      (e: any) => [Number(e.kv.mod_revision), Buffer.from(e.kv.key).toString()] as [number, string],
    ),
  );
}

it('a watcher on a follower misses nothing, twice nothing, while the leader is killed and replaced', async () => {
  const leader = await leaderOf(nodes);
  const [follower, writerNode] = [...nodes.filter((n) => n !== leader), leader];
  const watch = openWatch(follower.member.endpoint);
  watch.send({ create_request: { key: Buffer.from(PREFIX), range_end: Buffer.from('fo0') } });
  await watch.waitFor((rs) => rs.some((r) => r.created));

  // Writes go to the follower (forwarded to whoever leads) and to the leader until it dies.
  const acked = new Map<string, number>();
  let writing = true;
  let n = 0;
  const writer = async (api: EtcdApi) => {
    while (writing) {
      const key = `${PREFIX}${String(n++).padStart(6, '0')}`;
      const res = await settle(api.kv.Put({ key: Buffer.from(key), value: Buffer.from('v') }));
      if (res.ok) acked.set(key, Number(res.ok.header.revision));
      else await sleep(20);
    }
  };
  const writers = [writer(follower.api), writer(writerNode.api)];
  while (acked.size < 100) await sleep(20);
  await leader.member.kill('SIGKILL');
  const live = nodes.filter((x) => x !== leader);
  await leaderOf(live, leader.id);
  const target = acked.size + 200;
  while (acked.size < target) await sleep(20);
  writing = false;
  await Promise.all(writers);

  const last = Math.max(...acked.values());
  await watch.waitFor((rs) => delivered(rs).some(([rev]) => rev >= last), 60_000);
  const events = delivered(watch.responses);
  const revisions = events.map(([rev]) => rev);
  // In order, no duplicate (each put is its own revision).
  for (let i = 1; i < revisions.length; i++) expect(revisions[i]).toBeGreaterThan(revisions[i - 1]);
  // Every acknowledged write arrived, at the revision its client was told.
  const seen = new Map(events.map(([rev, key]) => [key, rev]));
  for (const [key, rev] of acked) expect([key, seen.get(key)]).toEqual([key, rev]);

  // A client that lost its stream resumes from its last revision + 1 on another member.
  const cut = revisions[Math.floor(revisions.length / 2)];
  const resumed = openWatch(live.find((x) => x !== follower)!.member.endpoint);
  resumed.send({
    create_request: { key: Buffer.from(PREFIX), range_end: Buffer.from('fo0'), start_revision: cut + 1 },
  });
  await resumed.waitFor((rs) => delivered(rs).some(([rev]) => rev >= last), 60_000);
  const upToLast = ([rev]: [number, string]) => rev <= last;
  expect(delivered(resumed.responses).filter(upToLast)).toEqual(
    events.filter(([rev]) => rev > cut).filter(upToLast),
  );
  watch.close();
  resumed.close();
});
