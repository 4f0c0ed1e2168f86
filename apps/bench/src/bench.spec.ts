// Runs the generator and the cluster harness against a real etcd (skipped where none is installed).
import { execFileSync } from 'child_process';
import { existsSync } from 'fs';
import { runBench } from './bench';
import { RunningCluster, startCluster } from './cluster';
import { CallError, openConn, Transport } from './conn';
import { BENCH_USER, enableBenchAuth } from './auth';
import { parseBenchArgs } from './options';
import { etcdType } from './proto';

const hasEtcd = (() => {
  try {
    execFileSync('etcd', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

(hasEtcd ? describe : describe.skip)('bench against etcd', () => {
  jest.setTimeout(60000);
  let cluster: RunningCluster;

  beforeAll(async () => {
    cluster = await startCluster('etcd', ['etcd'], 1, [], { keepData: false });
  });

  afterAll(async () => {
    await cluster?.stop();
    if (cluster) expect(existsSync(cluster.baseDir)).toBe(false);
  });

  const small = (workload: string, ...more: string[]) =>
    parseBenchArgs([
      workload,
      '--endpoints',
      cluster.endpoints.join(','),
      '--total',
      '300',
      '--clients',
      '10',
      '--conns',
      '3',
      '--key-space-size',
      '50',
      ...more,
    ]);

  it.each<[string, Transport, string[]]>([
    ['put', 'frames', []],
    ['put', 'h2', []],
    ['put', 'grpc-js', []],
    ['range', 'frames', []],
    ['range', 'h2', []],
    ['range', 'grpc-js', ['--consistency', 's']],
    ['txn', 'frames', ['--txn-ops', '3']],
    ['txn', 'h2', ['--txn-ops', '3']],
    ['mixed', 'frames', ['--read-ratio', '0.5']],
    ['lease-keepalive', 'frames', []],
  ])('%s over %s %j', async (workload, transport, more) => {
    const r = await runBench(small(workload, '--transport', transport, ...more));
    expect(r.firstError).toBeUndefined();
    expect(r.errors).toBe(0);
    expect(r.total).toBe(300);
    expect(r.throughput).toBeGreaterThan(0);
    expect(r.latencyMs.p50).toBeGreaterThan(0);
    expect(r.latencyMs.max).toBeGreaterThanOrEqual(r.latencyMs.p99);
  });

  it('runs for a duration instead of a count', async () => {
    const r = await runBench(small('range', '--duration', '0.5', '--no-prefill'));
    expect(r.durationSec).toBeGreaterThanOrEqual(0.5);
    expect(r.durationSec).toBeLessThan(3);
    expect(r.total).toBeGreaterThan(0);
  });

  it.each<Transport>(['frames', 'h2', 'grpc-js'])(
    '%s reports gRPC status errors as CallError',
    async (transport) => {
      const conn = openConn(transport, cluster.endpoints[0], 0);
      try {
        await conn.ready();
        const RangeRequest = etcdType('RangeRequest');
        // Far-future revision: etcd answers OUT_OF_RANGE "required revision is a future revision".
        const req = Buffer.from(RangeRequest.encode({ key: Buffer.from('k'), revision: 1e9 }).finish());
        const err = await conn.unary('/etcdserverpb.KV/Range', req, (b) => b).catch((e) => e);
        expect(err).toBeInstanceOf(CallError);
        expect(err.code).toBe(11);
        expect(err.details).toBe('etcdserver: mvcc: required revision is a future revision');
      } finally {
        conn.close();
      }
    },
  );

  it('counts failed requests without stopping the run', async () => {
    const r = await runBench(
      parseBenchArgs([
        'put',
        '--endpoints',
        cluster.endpoints[0],
        '--total',
        '20',
        '--clients',
        '2',
        '--conns',
        '1',
        '--key-size',
        '2000000',
        '--val-size',
        '0',
        '--key-space-size',
        '10',
      ]),
    );
    expect(r.total).toBe(0);
    expect(r.errors).toBe(20);
    expect(r.firstError).toMatch(/request is too large|message larger than max/);
  });
});

(hasEtcd ? describe : describe.skip)('bench with auth (against etcd)', () => {
  jest.setTimeout(60000);
  let cluster: RunningCluster;

  beforeAll(async () => {
    cluster = await startCluster('etcd', ['etcd'], 1, [], { keepData: false });
    const conn = openConn('h2', cluster.endpoints[0], -1);
    try {
      await conn.ready();
      await enableBenchAuth(conn);
    } finally {
      conn.close();
    }
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  const run = (workload: string, ...more: string[]) =>
    runBench(
      parseBenchArgs([workload, '--endpoints', cluster.endpoints[0], '--total', '100', '--clients', '4',
        '--conns', '2', '--key-space-size', '20', ...more]), // prettier-ignore
    );

  it.each<[string, Transport]>([
    ['put', 'frames'],
    ['put', 'h2'],
    ['put', 'grpc-js'],
    ['range', 'frames'],
    ['txn', 'grpc-js'],
  ])('%s over %s runs as the bench user', async (workload, transport) => {
    const r = await run(workload, '--transport', transport, '--user', BENCH_USER);
    expect(r.firstError).toBeUndefined();
    expect(r.total).toBe(100);
  });

  it('without a token every request is refused', async () => {
    const r = await run('put', '--no-prefill');
    expect(r.errors).toBe(100);
    expect(r.firstError).toMatch(/user name is empty/);
  });

  it('refuses a malformed --user and streaming workloads with --user', () => {
    expect(() => parseBenchArgs(['put', '--user', 'nopassword'])).toThrow('--user must be name:password');
    expect(() => parseBenchArgs(['watch', '--user', 'a:b'])).toThrow('not supported by the watch workload');
  });
});
