// /health and /metrics on --listen-metrics-urls, side by side with etcd 3.4: the same probe
// answers (status, headers, body) through an alarm and back, and every metric Cairn exports
// carries etcd's name and type, so etcd's dashboards and alerts read Cairn unchanged.
import { freePort, MemberProcess, startMember } from '../support/members';
import { connect, EtcdApi } from '../support/etcd-api';

jest.setTimeout(120_000);

interface Probe {
  status: number;
  type: string | null;
  body: string;
}

interface Served {
  member: MemberProcess;
  api: EtcdApi;
  metricsUrl: string;
}

let cairn: Served;
let etcd: Served;

async function start(kind: 'cairn' | 'etcd'): Promise<Served> {
  const port = await freePort();
  const metricsUrl = `http://127.0.0.1:${port}`;
  const member = await startMember(kind, { extraArgs: ['--listen-metrics-urls', metricsUrl] });
  return { member, api: connect(member.endpoint), metricsUrl };
}

beforeAll(async () => {
  [cairn, etcd] = await Promise.all([start('cairn'), start('etcd')]);
});

afterAll(async () => {
  for (const s of [cairn, etcd]) {
    s?.api.close();
    await s?.member.stop();
  }
});

async function probe(s: Served, path: string): Promise<Probe> {
  const res = await fetch(s.metricsUrl + path);
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
}

/** Metric name -> type, from the `# TYPE` lines of a scrape. */
function types(scrape: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of scrape.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1], m[2]);
  return out;
}

function sample(scrape: string, series: string): number {
  const line = scrape.split('\n').find((l) => l.startsWith(series + ' '));
  if (!line) throw new Error(`no sample ${series} in scrape`);
  return Number(line.slice(series.length + 1));
}

async function alarm(s: Served, action: 'ACTIVATE' | 'DEACTIVATE'): Promise<void> {
  const status = await s.api.maintenance.Status({});
  await s.api.maintenance.Alarm({ action, memberID: status.header.member_id, alarm: 'NOSPACE' });
}

it('/health answers as etcd does: healthy, then 503 while an alarm is raised, then healthy again', async () => {
  for (const s of [cairn, etcd]) {
    expect(await probe(s, '/health')).toEqual({
      status: 200,
      type: 'text/plain; charset=utf-8',
      body: '{"health":"true"}',
    });
  }
  await Promise.all([alarm(cairn, 'ACTIVATE'), alarm(etcd, 'ACTIVATE')]);
  const [c, e] = await Promise.all([probe(cairn, '/health'), probe(etcd, '/health')]);
  expect(c).toEqual(e);
  expect(c.status).toBe(503);
  expect(c.body).toBe('{"health":"false"}\n');

  await Promise.all([alarm(cairn, 'DEACTIVATE'), alarm(etcd, 'DEACTIVATE')]);
  expect(await probe(cairn, '/health')).toEqual(await probe(etcd, '/health'));
  expect((await probe(cairn, '/health')).status).toBe(200);
});

it("every etcd_* metric Cairn exports exists in etcd's scrape with the same type", async () => {
  const [c, e] = await Promise.all([probe(cairn, '/metrics'), probe(etcd, '/metrics')]);
  expect(c.status).toBe(200);
  const etcdTypes = types(e.body);
  const ours = [...types(c.body)].filter(([name]) => name.startsWith('etcd_'));
  expect(ours.length).toBeGreaterThanOrEqual(12);
  for (const [name, type] of ours) expect([name, etcdTypes.get(name)]).toEqual([name, type]);
});

it('the values follow the member: leader, id, revisions, sizes', async () => {
  await cairn.api.kv.Put({ key: Buffer.from('a'), value: Buffer.from('1') });
  const put = await cairn.api.kv.Put({ key: Buffer.from('a'), value: Buffer.from('2') });
  await cairn.api.kv.Compact({ revision: put.header.revision });
  const status = await cairn.api.maintenance.Status({});
  const { body } = await probe(cairn, '/metrics');

  expect(sample(body, 'etcd_server_has_leader')).toBe(1);
  expect(sample(body, 'etcd_server_is_leader')).toBe(1);
  expect(sample(body, 'etcd_server_is_learner')).toBe(0);
  const id = BigInt(status.header.member_id).toString(16);
  expect(sample(body, `etcd_server_id{server_id="${id}"}`)).toBe(1);
  expect(sample(body, 'etcd_debugging_mvcc_current_revision')).toBe(Number(put.header.revision));
  expect(sample(body, 'etcd_debugging_mvcc_compact_revision')).toBe(Number(put.header.revision));
  expect(sample(body, 'etcd_server_proposals_applied_total')).toBeGreaterThanOrEqual(
    Number(status.raftAppliedIndex),
  );
  expect(sample(body, 'etcd_server_quota_backend_bytes')).toBe(2 * 1024 ** 3);
  expect(sample(body, 'etcd_mvcc_db_total_size_in_use_in_bytes')).toBeGreaterThan(0);
});

it('other paths are not found, as on etcd', async () => {
  const [c, e] = await Promise.all([probe(cairn, '/nope'), probe(etcd, '/nope')]);
  expect(c).toEqual(e);
  expect(c.status).toBe(404);
});
