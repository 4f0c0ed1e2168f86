// Member lifecycle against etcd 3.4, the same sequences on 3-member clusters of each: a removed
// member stops (exit status 0, etcd's message) whether it applies its removal or is told by the
// cluster, and never rejoins from its data directory; and the strict reconfiguration check
// refuses changes that would leave the active members without a quorum ("unhealthy cluster").
import { ChildProcess } from 'node:child_process';
import { etcdctl } from '../etcdctl/ctl';
import { connect } from '../support/etcd-api';
import { whileUnhealthy } from '../support/reconfig';
import {
  FAST_RAFT,
  MEMBER_REMOVED_MESSAGE as REMOVED,
  MemberKind,
  MemberProcess,
  exitStatus,
  freePort,
  startCluster,
} from '../support/members';

jest.setTimeout(180_000);

/** etcd's health interval: membership changes wait for members connected this long. */
const HEALTH_INTERVAL_MS = 5000;

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

let members: MemberProcess[] = [];
afterEach(async () => {
  await Promise.all(members.map((m) => m.stop()));
  members = [];
});

/** A cluster (3 members unless told) and its member ids in hex (as etcdctl takes them), in member order. */
async function cluster(kind: MemberKind, extraArgs: string[] = [], size = 3): Promise<string[]> {
  members = await startCluster(kind, size, {
    extraArgs: [...FAST_RAFT, ...extraArgs],
    token: `lifecycle-${kind}`,
  });
  // Members publish their names through the log once they start; etcd counts only those started.
  for (let i = 0; i < 100; i++) {
    const list = await etcdctl(members[0].endpoint, ['member', 'list']);
    if (list.code === 0 && !list.stdout.includes('unstarted')) break;
    await sleep(100);
  }
  return Promise.all(
    members.map(async (m) => {
      const api = connect(m.endpoint);
      try {
        return BigInt((await api.maintenance.Status({})).header.member_id).toString(16);
      } finally {
        api.close();
      }
    }),
  );
}

/** Starts `m` again from its data directory; it must exit without serving. Its status and output. */
async function restartRefused(
  m: MemberProcess,
): Promise<{ status: number | null | 'running'; output: string }> {
  let child: ChildProcess | undefined;
  let output = '';
  const restarted = m.restart([], {
    onOutput: (text, c) => {
      child = c;
      output += text;
    },
  });
  const started = await restarted.then(
    (r) => r,
    () => undefined,
  );
  if (started) {
    members.push(started);
    return { status: 'running', output };
  }
  return { status: child ? await exitStatus(child) : 'running', output };
}

/** The remaining members serve: etcdctl endpoint health passes and a write is read back. */
async function expectHealthy(rest: MemberProcess[]): Promise<void> {
  const endpoints = rest.map((m) => m.endpoint).join(',');
  const health = await etcdctl(endpoints, ['endpoint', 'health']);
  expect(health.code).toBe(0);
  expect(await etcdctl(rest[0].endpoint, ['put', 'after-remove', 'ok'])).toMatchObject({ code: 0 });
  for (const m of rest) {
    const got = await etcdctl(m.endpoint, ['get', 'after-remove', '--print-value-only']);
    expect(got.stdout.trim()).toBe('ok');
  }
}

describe.each<MemberKind>(['cairn', 'etcd'])('%s: a removed member', (kind) => {
  it('applying its own removal, exits 0 with etcd message; restarted, it exits 0 again without serving', async () => {
    const ids = await cluster(kind);
    await sleep(HEALTH_INTERVAL_MS + 1000);
    const removed = await etcdctl(members[0].endpoint, ['member', 'remove', ids[2]]);
    expect(removed.code).toBe(0);
    // etcdctl pads the hex id to 16 columns with spaces.
    expect(removed.stdout).toMatch(new RegExp(`Member +${ids[2]} removed from cluster`));
    expect(await exitStatus(members[2].child)).toBe(0);
    expect(members[2].log()).toContain(REMOVED);
    await expectHealthy(members.slice(0, 2));

    const again = await restartRefused(members[2]);
    expect(again.status).toBe(0);
    expect(again.output).toContain(REMOVED);
    expect(again.output).not.toContain('ready to serve client requests');
    const list = await etcdctl(members[0].endpoint, ['member', 'list']);
    expect(list.stdout).not.toContain(ids[2]);
  });

  it('the leader, removed through a follower, exits 0 and the others elect a new one', async () => {
    const ids = await cluster(kind);
    await sleep(HEALTH_INTERVAL_MS + 1000);
    const api = connect(members[0].endpoint);
    const leader = BigInt((await api.maintenance.Status({})).leader).toString(16);
    api.close();
    const li = ids.indexOf(leader);
    const rest = members.filter((_, i) => i !== li);
    const removed = await etcdctl(rest[0].endpoint, ['member', 'remove', leader]);
    expect(removed.code).toBe(0);
    expect(await exitStatus(members[li].child)).toBe(0);
    expect(members[li].log()).toContain(REMOVED);
    await expectHealthy(rest);
  });

  it('the leader of a two-member cluster, removed, stays long enough for the survivor to lead alone', async () => {
    // The survivor needs the removal's commit to stop counting the leader's vote: the removed
    // leader lingers (etcd: one second) so its heartbeats carry that commit.
    const ids = await cluster(kind, [], 2);
    await sleep(HEALTH_INTERVAL_MS + 1000);
    const api = connect(members[0].endpoint);
    const leader = BigInt((await api.maintenance.Status({})).leader).toString(16);
    api.close();
    const li = ids.indexOf(leader);
    const survivor = members[1 - li];
    const removed = await etcdctl(survivor.endpoint, ['member', 'remove', leader]);
    expect(removed.code).toBe(0);
    expect(await exitStatus(members[li].child)).toBe(0);
    await expectHealthy([survivor]);
    const list = await etcdctl(survivor.endpoint, ['member', 'list']);
    expect(list.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('removed while it was down, learns it from the cluster when it restarts and exits 0', async () => {
    const ids = await cluster(kind);
    await members[2].kill();
    // A member that is down may be removed at once: it is not part of the active quorum. etcd
    // only counts it down once its peer stream noticed; until then it may answer "unhealthy cluster".
    const removed = await whileUnhealthy(
      () => etcdctl(members[0].endpoint, ['member', 'remove', ids[2]]),
      (r) => r.stderr,
    );
    expect(removed.code).toBe(0);
    const back = await restartRefused(members[2]);
    expect(back.status).toBe(0);
    expect(back.output).toContain(REMOVED);
    expect(back.output).not.toContain('ready to serve client requests');
    await expectHealthy(members.slice(0, 2));
  });
});

/** An etcdctl answer reduced to what must match: status and the error line, or 'ok'. */
async function answer(endpoint: string, args: string[]): Promise<string> {
  const r = await etcdctl(endpoint, args);
  if (r.code === 0) return 'ok';
  const error = r.stderr.split('\n').find((l) => l.startsWith('Error:'));
  return `${r.code} ${error ?? r.stderr.trim()}`;
}

describe('strict reconfiguration check with one of three members down', () => {
  const sequence = async (kind: MemberKind): Promise<string[]> => {
    const ids = await cluster(kind);
    // Connected for etcd's health interval: changes would be allowed now.
    await sleep(HEALTH_INTERVAL_MS + 1000);
    await members[2].kill();
    // The members notice the closed connection.
    await sleep(1000);
    const via = members[0].endpoint;
    const newPeer = `--peer-urls=http://127.0.0.1:${await freePort()}`;
    return [
      await answer(via, ['member', 'add', 'm4', newPeer]),
      await answer(via, ['member', 'add', 'm4', '--learner', newPeer]),
      await answer(via, ['member', 'remove', ids[1]]),
      await answer(via, ['member', 'remove', ids[0]]),
      // The member that is down is not part of the active quorum: removing it is safe.
      await answer(via, ['member', 'remove', ids[2]]),
      // Two members, connected for long enough: a third may be added.
      await answer(via, ['member', 'add', 'm4', newPeer]),
    ];
  };
  const unhealthy = '1 Error: etcdserver: unhealthy cluster';
  const expected = [unhealthy, unhealthy, unhealthy, unhealthy, 'ok', 'ok'];

  it('etcd 3.4 refuses adding a member and removing a live one, and allows removing the one down', async () => {
    expect(await sequence('etcd')).toEqual(expected);
  });

  it('Cairn answers the same', async () => {
    expect(await sequence('cairn')).toEqual(expected);
  });
});

describe.each<MemberKind>(['cairn', 'etcd'])('%s with --strict-reconfig-check=false', (kind) => {
  it('adds a learner while a member is down', async () => {
    await cluster(kind, ['--strict-reconfig-check=false']);
    await members[2].kill();
    const newPeer = `--peer-urls=http://127.0.0.1:${await freePort()}`;
    expect(await answer(members[0].endpoint, ['member', 'add', 'm4', '--learner', newPeer])).toBe('ok');
  });
});
