// Cluster.MemberList, membership changes, Maintenance.Snapshot and MoveLeader through etcdctl 3.4,
// on a Cairn member and on a real etcd 3.4 started with the same flags: outputs must match once
// ids, ports and data directories are normalized.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSnapshot } from '../../libs/server/src';
import { CtlResult, etcdctl, normalize } from '../etcdctl/ctl';
import { EtcdApi, connect, settle } from '../support/etcd-api';
import { MemberProcess, freePort, startMember } from '../support/members';

jest.setTimeout(90_000);

interface Running {
  member: MemberProcess;
  ports: { client: number; peer: number };
  api: EtcdApi;
  /** The member id, as etcdctl prints it (hex) and as JSON carries it (decimal). */
  hex: string;
  dec: string;
}

let cairn: Running;
let etcd: Running;

async function start(kind: 'cairn' | 'etcd'): Promise<Running> {
  const ports = { client: await freePort(), peer: await freePort() };
  const member = await startMember(kind, { ports });
  const api = connect(member.endpoint);
  const status = await api.maintenance.Status({});
  const dec = String(status.header.member_id);
  return { member, ports, api, dec, hex: BigInt(dec).toString(16) };
}

beforeAll(async () => {
  const started = await Promise.allSettled([start('cairn'), start('etcd')]);
  if (started[0].status === 'fulfilled') cairn = started[0].value;
  if (started[1].status === 'fulfilled') etcd = started[1].value;
  for (const s of started) if (s.status === 'rejected') throw s.reason;
});

afterAll(async () => {
  for (const r of [cairn, etcd]) r?.api.close();
  await Promise.all([cairn?.member.stop(), etcd?.member.stop()]);
});

/** Ids, ports and data directories replaced; table padding collapsed (ids differ in length). */
function normalized(r: CtlResult, m: Running): CtlResult {
  const n = normalize(r, m.member.endpoint);
  const fix = (s: string) =>
    s
      .split(m.hex)
      .join('<id>')
      .split(m.dec)
      .join('<id>')
      .split(String(m.ports.client))
      .join('<client-port>')
      .split(String(m.ports.peer))
      .join('<peer-port>')
      .split(m.member.dataDir)
      .join('<dir>')
      .replace(/-{2,}/g, '-')
      .replace(/ {2,}/g, ' ')
      .replace(/"ClusterID" : \d+|"cluster_id":\d+/g, '<cluster>');
  return { code: n.code, stdout: fix(n.stdout), stderr: fix(n.stderr) };
}

/** The same etcdctl command on both; `args` may depend on the member (its own id, a file). */
async function both(args: (m: Running) => string[]): Promise<CtlResult> {
  const [c, e] = await Promise.all([
    etcdctl(cairn.member.endpoint, args(cairn)),
    etcdctl(etcd.member.endpoint, args(etcd)),
  ]);
  expect(normalized(c, cairn)).toEqual(normalized(e, etcd));
  return c;
}

describe('member list', () => {
  // -w protobuf is binary (ids as varints), not comparable as text.
  it.each([[[]], [['-w', 'simple']], [['-w', 'table']], [['-w', 'json']], [['-w', 'fields']]])(
    'matches etcd with %j',
    async (flags: string[]) => {
      const r = await both(() => ['member', 'list', ...flags]);
      expect(r.code).toBe(0);
    },
  );

  it('reports this member: id, name, peer and client URLs, not a learner', async () => {
    const r = await etcdctl(cairn.member.endpoint, ['member', 'list']);
    expect(r.stdout).toBe(
      `${cairn.hex}, started, m1, http://127.0.0.1:${cairn.ports.peer}, http://127.0.0.1:${cairn.ports.client}, false\n`,
    );
    const res = await cairn.api.cluster.MemberList({});
    expect(res.members).toEqual([
      {
        ID: cairn.dec,
        name: 'm1',
        peerURLs: [`http://127.0.0.1:${cairn.ports.peer}`],
        clientURLs: [`http://127.0.0.1:${cairn.ports.client}`],
        isLearner: false,
      },
    ]);
    expect(res.header.member_id).toBe(cairn.dec);
    // etcd's Cluster header carries no revision.
    expect(res.header.revision).toBe('0');
  });
});

describe('membership changes (a cluster of one): same answers as etcd', () => {
  const grpcBoth = async (call: (m: Running) => Promise<any>) => {
    const [c, e] = await Promise.all([settle(call(cairn)), settle(call(etcd))]);
    expect(c.error).toEqual(e.error);
    return c;
  };

  it.each([
    ['MemberAdd with a malformed peer URL', (m: Running) => m.api.cluster.MemberAdd({ peerURLs: ['foo'] })],
    ['MemberAdd with no peer URL', (m: Running) => m.api.cluster.MemberAdd({ peerURLs: [] })],
    [
      "MemberAdd of a learner with this member's peer URL",
      (m: Running) =>
        m.api.cluster.MemberAdd({ peerURLs: [`http://127.0.0.1:${m.ports.peer}`], isLearner: true }),
    ],
    ['MemberRemove of an unknown id', (m: Running) => m.api.cluster.MemberRemove({ ID: '1234' })],
    ['MemberRemove of the only member', (m: Running) => m.api.cluster.MemberRemove({ ID: m.dec })],
    [
      'MemberUpdate of an unknown id',
      (m: Running) => m.api.cluster.MemberUpdate({ ID: '1234', peerURLs: ['http://127.0.0.1:1'] }),
    ],
    ['MemberPromote of a voter', (m: Running) => m.api.cluster.MemberPromote({ ID: m.dec })],
  ])('%s is refused with the same error, changing nothing', async (_name, call) => {
    const r = await grpcBoth(call);
    expect(r.error).toBeDefined();
    expect((await cairn.api.cluster.MemberList({})).members).toHaveLength(1);
  });

  it('adds a learner (unstarted, not promotable while behind) and removes it, as etcd does', async () => {
    const learnerUrl = (m: Running) => `http://127.0.0.1:${m.ports.peer + 10_000}`;
    // Run on each: the members' order in the printed cluster follows their (random) ids.
    const add = (m: Running) =>
      etcdctl(m.member.endpoint, ['member', 'add', 'm9', '--learner', `--peer-urls=${learnerUrl(m)}`]);
    const [added, addedEtcd] = await Promise.all([add(cairn), add(etcd)]);
    expect([added.code, addedEtcd.code]).toEqual([0, 0]);
    const [, newId] = /^Member +([0-9a-f]+) added to cluster +[0-9a-f]+\n\n/.exec(added.stdout) ?? [];
    expect(newId).toMatch(/^[0-9a-f]+$/);
    // The environment a new member starts with; the cluster's order follows the ids.
    const env = (r: CtlResult) => {
      const vars = Object.fromEntries(
        [...r.stdout.matchAll(/^(ETCD_\w+)="(.*)"$/gm)].map((m) => [m[1], m[2]]),
      );
      return { ...vars, ETCD_INITIAL_CLUSTER: vars.ETCD_INITIAL_CLUSTER?.split(',').sort() };
    };
    for (const [r, m] of [
      [added, cairn],
      [addedEtcd, etcd],
    ] as const) {
      expect(env(r)).toEqual({
        ETCD_NAME: 'm9',
        ETCD_INITIAL_CLUSTER: [`m1=http://127.0.0.1:${m.ports.peer}`, `m9=${learnerUrl(m)}`],
        ETCD_INITIAL_ADVERTISE_PEER_URLS: learnerUrl(m),
        ETCD_INITIAL_CLUSTER_STATE: 'existing',
      });
    }
    const list = await etcdctl(cairn.member.endpoint, ['member', 'list']);
    expect(list.stdout).toContain(`${newId}, unstarted, , ${learnerUrl(cairn)}, , true`);
    // Both learners exist now; their ids differ, so each member is asked about its own.
    const idOf = async (m: Running) =>
      String(
        (await m.api.cluster.MemberList({})).members.find((x: { isLearner: boolean }) => x.isLearner)?.ID,
      );
    const ids = { cairn: await idOf(cairn), etcd: await idOf(etcd) };
    await grpcBoth((m) => m.api.cluster.MemberPromote({ ID: m === cairn ? ids.cairn : ids.etcd }));
    await grpcBoth((m) =>
      m.api.cluster.MemberAdd({ peerURLs: [`http://127.0.0.1:${m.ports.peer + 10_001}`], isLearner: true }),
    );
    const removed = await grpcBoth((m) =>
      m.api.cluster.MemberRemove({ ID: m === cairn ? ids.cairn : ids.etcd }),
    );
    expect(removed.ok.members).toHaveLength(1);
    // A removed id is gone for good.
    await grpcBoth((m) => m.api.cluster.MemberRemove({ ID: m === cairn ? ids.cairn : ids.etcd }));
  });
});

describe('move-leader', () => {
  it('to itself: same output as etcd (simple and json)', async () => {
    const r = await both((m) => ['move-leader', m.hex]);
    expect(r).toMatchObject({
      code: 0,
      stdout: `Leadership transferred from ${cairn.hex} to ${cairn.hex}\n`,
    });
    expect((await both((m) => ['move-leader', m.hex, '-w', 'json'])).stdout.trim()).toBe('{}');
  });

  it.each(['1234', '0', 'ffffffffffffffff'])('to unknown id %s: same error as etcd', async (id) => {
    const r = await both(() => ['move-leader', id]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n').pop()).toBe('Error: etcdserver: bad leader transferee');
  });

  it('over gRPC: the same code, message and response as etcd', async () => {
    const [c, e] = await Promise.all([
      settle(cairn.api.maintenance.MoveLeader({ targetID: '99' })),
      settle(etcd.api.maintenance.MoveLeader({ targetID: '99' })),
    ]);
    expect(c).toEqual(e);
    expect(c.error.code).toBe(9);
    const [cs, es] = await Promise.all([
      settle(cairn.api.maintenance.MoveLeader({ targetID: cairn.dec })),
      settle(etcd.api.maintenance.MoveLeader({ targetID: etcd.dec })),
    ]);
    expect(cs).toEqual(es);
  });
});

describe('snapshot save', () => {
  it('writes a file etcdctl accepts, whose trailer verifies and which holds the written keys', async () => {
    const value = 'v'.repeat(2000);
    for (let i = 0; i < 100; i++)
      await cairn.api.kv.Put({ key: Buffer.from(`snap/key-${i}`), value: Buffer.from(value) });
    const file = join(cairn.member.dataDir, '..', `cairn-snapshot-${cairn.ports.client}.db`);
    const r = await etcdctl(cairn.member.endpoint, ['snapshot', 'save', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`Snapshot saved at ${file}\n`);

    const bytes = readFileSync(file);
    const body = bytes.subarray(0, bytes.length - 32);
    expect(createHash('sha256').update(body).digest()).toEqual(bytes.subarray(bytes.length - 32));
    expect(bytes.length % 512).toBe(32);
    // At least the values written; not wildly more (the raft log holds each put once more).
    expect(bytes.length).toBeGreaterThan(100 * 2000);
    expect(bytes.length).toBeLessThan(20 * 1024 * 1024);
    const records = parseSnapshot(bytes);
    const has = (s: string) => records.some(([k, v]) => k.includes(s) || v.includes(s));
    for (let i = 0; i < 100; i++) expect(has(`snap/key-${i}`)).toBe(true);
  });

  it('prints what etcd prints; etcdctl snapshot status cannot read Cairn format (not bbolt)', async () => {
    const fileOf = (m: Running) => join(m.member.dataDir, '..', `parity-${m.ports.client}.db`);
    const r = await both((m) => ['snapshot', 'save', fileOf(m)]);
    expect(r.stdout).toBe(`Snapshot saved at ${fileOf(cairn)}\n`);
    const status = await etcdctl(cairn.member.endpoint, ['snapshot', 'status', fileOf(cairn)]);
    expect(status.code).not.toBe(0);
  });

  it('streams as etcd does: 32 KiB chunks counting down to 0, then the 32-byte sha256', async () => {
    for (const m of [cairn, etcd]) {
      const msgs = await m.api.maintenance.Snapshot();
      const data = msgs.slice(0, -1);
      const trailer = msgs[msgs.length - 1];
      expect(trailer.blob.length).toBe(32);
      expect(trailer.remaining_bytes).toBe('0');
      data.slice(0, -1).forEach((x: any) => expect(x.blob.length).toBe(32 * 1024));
      expect(data[data.length - 1].remaining_bytes).toBe('0');
      data.slice(0, -1).forEach((x: any) => expect(Number(x.remaining_bytes)).toBeGreaterThan(0));
      const body = Buffer.concat(data.map((x: any) => x.blob));
      expect(createHash('sha256').update(body).digest()).toEqual(trailer.blob);
    }
  });
});

describe('after a restart', () => {
  it('member list is unchanged, as etcd', async () => {
    const members = async () =>
      JSON.parse(
        (await etcdctl(cairn.member.endpoint, ['member', 'list', '-w', 'json'])).stdout.replace(
          /\d{6,}/g,
          '"<id>"',
        ),
      ).members;
    const before = await members();
    cairn.api.close();
    cairn.member = await cairn.member.restart();
    cairn.api = connect(cairn.member.endpoint);
    expect(await members()).toEqual(before);
    await both(() => ['member', 'list']);
  });
});
