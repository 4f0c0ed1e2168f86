// Members started with the wrong cluster configuration, on etcd 3.4 and on Cairn alike: a member
// whose --initial-cluster disagrees with the others', and a member started on a data directory
// from another cluster. Neither joins; the others serve; no data crosses between the clusters.
import { EtcdApi, connect, settle } from '../support/etcd-api';
import {
  FAST_RAFT,
  MemberKind,
  MemberProcess,
  initialClusterOf,
  memberSpecs,
  startMember,
} from '../support/members';

jest.setTimeout(120_000);

const bootstrap = (token: string) => [
  '--initial-cluster-state',
  'new',
  '--initial-cluster-token',
  token,
  ...FAST_RAFT,
];

async function withApi<T>(m: MemberProcess, f: (api: EtcdApi) => Promise<T>): Promise<T> {
  const api = connect(m.endpoint);
  try {
    return await f(api);
  } finally {
    api.close();
  }
}

describe.each<MemberKind>(['etcd', 'cairn'])('%s: bad bootstrap configuration', (kind) => {
  const started: MemberProcess[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((m) => m.stop()));
  });

  it('a member whose --initial-cluster lists another member set never joins; the other two serve', async () => {
    const all = await memberSpecs(4);
    const [m1, m2, m3, m4] = all;
    const good = initialClusterOf([m1, m2, m3]);
    const results = await Promise.allSettled([
      startMember(kind, { ...m1, initialCluster: good, extraArgs: bootstrap('t') }),
      startMember(kind, { ...m2, initialCluster: good, extraArgs: bootstrap('t') }),
      // m3 believes in a fourth member: its member and cluster ids differ from the others'.
      startMember(kind, {
        ...m3,
        initialCluster: initialClusterOf([m1, m2, m3, m4]),
        extraArgs: bootstrap('t'),
        readyTimeoutMs: 10_000,
      }),
    ]);
    for (const r of results) if (r.status === 'fulfilled') started.push(r.value);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    const [a, b] = started;
    // Served (retried over an election the loaded machine may cause).
    let put = await withApi(a, (api) =>
      settle(api.kv.Put({ key: Buffer.from('k'), value: Buffer.from('v') })),
    );
    for (let i = 0; i < 5 && put.error; i++)
      put = await withApi(a, (api) => settle(api.kv.Put({ key: Buffer.from('k'), value: Buffer.from('v') })));
    expect(put.error).toBeUndefined();
    const read = await withApi(b, (api) => api.kv.Range({ key: Buffer.from('k') }));
    expect(read.kvs).toHaveLength(1);
    if (kind === 'cairn') expect(a.log() + b.log()).toMatch(/refused a peer from another cluster/);
  });

  it('a member started on the data directory of another cluster stays in that cluster, its data intact', async () => {
    const [m1, m2, m3] = await memberSpecs(3);
    // Cluster X: m3 alone, on the very peer URL cluster Y expects its m3 at.
    const x = await startMember(kind, { ...m3, extraArgs: bootstrap('cluster-x') });
    const xId = await withApi(x, async (api) => {
      await api.kv.Put({ key: Buffer.from('from-x'), value: Buffer.from('x') });
      return String((await api.maintenance.Status({})).header.cluster_id);
    });
    await x.kill();

    const y = initialClusterOf([m1, m2, m3]);
    const ys = await Promise.all(
      [m1, m2].map((s) => startMember(kind, { ...s, initialCluster: y, extraArgs: bootstrap('y') })),
    );
    started.push(...ys);
    // A restart from a data directory ignores the initial flags: it is X's member again.
    const again = await startMember(kind, {
      ...m3,
      dataDir: x.dataDir,
      initialCluster: y,
      extraArgs: bootstrap('y'),
    });
    started.push(again);
    const status = await withApi(again, (api) => api.maintenance.Status({}));
    expect(String(status.header.cluster_id)).toBe(xId);
    const yId = await withApi(ys[0], async (api) =>
      String((await api.maintenance.Status({})).header.cluster_id),
    );
    expect(yId).not.toBe(xId);
    expect(await withApi(again, (api) => api.kv.Range({ key: Buffer.from('from-x') }))).toMatchObject({
      kvs: [{ value: Buffer.from('x') }],
    });
    // Y serves with its two members and never sees X's data; X takes no write from Y.
    await withApi(ys[0], (api) => api.kv.Put({ key: Buffer.from('from-y'), value: Buffer.from('y') }));
    for (const m of ys) {
      const res = await withApi(m, (api) =>
        api.kv.Range({ key: Buffer.from('from-'), range_end: Buffer.from('from.') }),
      );
      expect(res.kvs.map((kv: { key: Buffer }) => kv.key.toString())).toEqual(['from-y']);
    }
    const xKeys = await withApi(again, (api) =>
      api.kv.Range({ key: Buffer.from('from-'), range_end: Buffer.from('from.') }),
    );
    expect(xKeys.kvs.map((kv: { key: Buffer }) => kv.key.toString())).toEqual(['from-x']);
    if (kind === 'cairn') {
      // Y's members keep dialing m3's URL (with backoff); X's member refuses them, and says so.
      const logs = () => ys[0].log() + ys[1].log() + again.log();
      for (let i = 0; i < 100 && !/another cluster/.test(logs()); i++)
        await new Promise((ok) => setTimeout(ok, 100));
      expect(logs()).toMatch(/another cluster/);
    }
  });
});
