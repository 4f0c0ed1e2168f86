// When a member of a new cluster starts serving clients, against etcd 3.4 started the same way:
// only once it is part of a quorum (a leader is known, and its own attributes, name and client
// URLs, are committed). A lone member of three answers no client; once a second member is up,
// both serve. (The window between a leader and the attributes' commit is too short to provoke
// here: this checks the quorum requirement both imply.)
import { etcdctl } from '../etcdctl/ctl';
import {
  FAST_RAFT,
  MemberKind,
  MemberProcess,
  initialClusterOf,
  memberSpecs,
  startMember,
} from '../support/members';

jest.setTimeout(120_000);

const READY = 'ready to serve client requests';
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

let members: MemberProcess[] = [];
afterEach(async () => {
  await Promise.all(members.map((m) => m.stop()));
  members = [];
});

describe.each<MemberKind>(['cairn', 'etcd'])('%s: a member of a new cluster', (kind) => {
  it('serves no client alone, and serves once a second member makes a quorum', async () => {
    const specs = await memberSpecs(3);
    const initialCluster = initialClusterOf(specs);
    const start = (i: number, waitReady: boolean) =>
      startMember(kind, {
        name: specs[i].name,
        ports: specs[i].ports,
        initialCluster,
        extraArgs: [
          '--initial-cluster-state',
          'new',
          '--initial-cluster-token',
          `readiness-${kind}`,
          ...FAST_RAFT,
        ],
        waitReady,
      });

    const m1 = await start(0, false);
    members.push(m1);
    // Many election timeouts alone: no quorum, so no leader and no committed attributes.
    await sleep(3000);
    // prettier-ignore
    const alone = await etcdctl(m1.endpoint, ['get', 'k', '--consistency=s', '--dial-timeout=1s', '--command-timeout=2s']);
    expect(alone.code).not.toBe(0);
    expect(m1.log()).not.toContain(READY);
    expect(m1.child.exitCode).toBeNull();

    members.push(await start(1, true));
    for (let i = 0; i < 100 && !m1.log().includes(READY); i++) await sleep(100);
    expect(m1.log()).toContain(READY);
    expect(await etcdctl(m1.endpoint, ['put', 'k', 'v'])).toMatchObject({ code: 0 });
    const got = await etcdctl(members[1].endpoint, ['get', 'k', '--print-value-only']);
    expect(got.stdout.trim()).toBe('v');
  });
});
