import { BENCH_USER } from './auth';
import {
  benchArgsFor,
  ComparisonRow,
  formatComparison,
  medianRun,
  needsPrefill,
  parseCompareArgs,
  prefillArgs,
  warmupArgs,
} from './comparison';
import { parseBenchArgs } from './options';
import { BenchResult } from './result';

describe('parseCompareArgs', () => {
  it('defaults to the four standard workloads, one member, etcd then cairn', () => {
    const o = parseCompareArgs([]);
    expect(o.workloads).toEqual(['put', 'range', 'range-serializable', 'txn']);
    expect(o.clusterSize).toBe(1);
    expect(o.systems).toEqual(['etcd', 'cairn']);
    expect(o.keepData).toBe(false);
    expect(o.etcdCmd).toBe('etcd');
    expect(o.cairnCmd).toBeUndefined();
    expect(o.load.clients).toBe(200);
    expect(o.quotaBackendBytes).toBeGreaterThanOrEqual(8 * 1024 ** 3);
    expect(o.rounds).toBe(1);
    expect(o.warmup).toBe(10000);
    expect(o.oneAtATime).toBe(false);
  });

  it('reads its own and the load options', () => {
    const o = parseCompareArgs(
      // prettier-ignore
      ['--workloads', 'txn, mixed', '--cluster-size', '3', '--keep-data', '--cairn-cmd', 'etcd',
       '--etcd-args=--snapshot-count 1000', '--clients', '10', '--duration', '2'],
    );
    expect(o.workloads).toEqual(['txn', 'mixed']);
    expect(o.clusterSize).toBe(3);
    expect(o.keepData).toBe(true);
    expect(o.cairnCmd).toBe('etcd');
    expect(o.etcdArgs).toEqual(['--snapshot-count', '1000']);
    expect(o.load.clients).toBe(10);
    expect(o.load.duration).toBe(2);
    expect(o.auth).toBe(false);
  });

  it('--auth runs every workload as the bench user', () => {
    const o = parseCompareArgs(['--auth', '--workloads', 'put']);
    expect(o.auth).toBe(true);
    expect(o.load.user).toBe(BENCH_USER);
    const args = benchArgsFor('put', o.load, ['127.0.0.1:1']);
    expect(args.slice(args.indexOf('--user'), args.indexOf('--user') + 2)).toEqual(['--user', BENCH_USER]);
  });

  it('rejects unknown workloads, systems and cluster sizes', () => {
    expect(() => parseCompareArgs(['--workloads', 'put,foo'])).toThrow(/unknown workload "foo"/);
    expect(() => parseCompareArgs(['--systems', 'zk'])).toThrow(/unknown system "zk"/);
    expect(() => parseCompareArgs(['--cluster-size', '2'])).toThrow(/Invalid values/);
    expect(() => parseCompareArgs(['--rounds', '0'])).toThrow(/--rounds/);
    expect(() => parseCompareArgs(['--warmup', '-1'])).toThrow(/--warmup/);
    expect(() => parseCompareArgs(['--warmup', '2.5'])).toThrow(/--warmup/);
  });
});

describe('warmupArgs', () => {
  it('sends the workload as the rounds do, for a fixed number of requests', () => {
    const load = parseCompareArgs(['--duration', '30', '--clients', '9', '--warmup', '500']).load;
    const back = parseBenchArgs(warmupArgs('range-serializable', load, 500, ['127.0.0.1:1']));
    expect(back).toMatchObject({ workload: 'range', consistency: 's', clients: 9, duration: 0, total: 500 });
  });
});

describe('benchArgsFor', () => {
  it('produces a bench command line that parses back to the same load', () => {
    const load = parseBenchArgs([
      'put',
      '--clients',
      '7',
      '--conns',
      '3',
      '--val-size',
      '10',
      '--sequential-keys',
    ]);
    const args = benchArgsFor('range-serializable', load, ['127.0.0.1:1', '127.0.0.1:2']);
    const back = parseBenchArgs(args);
    expect(back).toEqual({
      ...load,
      prefill: false,
      workload: 'range',
      consistency: 's',
      json: true,
      endpoints: ['127.0.0.1:1', '127.0.0.1:2'],
    });
  });

  it('passes --duration instead of --total when set', () => {
    const load = parseBenchArgs(['put', '--duration', '5']);
    const args = benchArgsFor('put', load, ['e:1']);
    expect(args).toContain('--duration');
    expect(args).not.toContain('--total');
  });
});

describe('formatComparison', () => {
  const result = (throughput: number, p99: number, errors = 0): BenchResult => ({
    workload: 'put',
    endpoints: [],
    clients: 1,
    conns: 1,
    workers: 1,
    total: 1,
    errors,
    durationSec: 1,
    throughput,
    latencyMs: { avg: 1, min: 1, p50: 1, p90: 1, p99, p999: 1, max: 1 },
    clientCpuCores: 1,
  });

  it('shows both sides, the Cairn/etcd ratios and server CPU per request', () => {
    const rows: ComparisonRow[] = [
      {
        workload: 'put',
        etcd: { bench: result(10000, 20), serverCpuSec: 0.5 },
        cairn: { bench: result(5000, 30, 3), serverCpuSec: 2 },
      },
      { workload: 'range', etcd: { bench: result(20000, 10) }, cairn: { error: 'cairn crashed' } },
    ];
    const lines = formatComparison(rows).split('\n');
    expect(lines[0]).toMatch(
      /^workload\s+etcd req\/s\s+cairn req\/s\s+ratio\s+etcd p99 ms\s+cairn p99 ms\s+ratio/,
    );
    // total is 1 request per result, so CPU per request is serverCpuSec in µs
    expect(lines[2].split(/\s+/)).toEqual([
      'put',
      '10000',
      '5000',
      '0.50',
      '20.00',
      '30.00',
      '1.50',
      '500000',
      '2000000',
      '0/3',
    ]);
    expect(lines[3].split(/\s+/)).toEqual(['range', '20000', '-', '-', '10.00', '-', '-', '-', '-', '0/-']);
    expect(lines[4]).toBe('range: cairn run failed: cairn crashed');
  });
});

describe('prefill', () => {
  it('is needed only by reading workloads', () => {
    const o = parseBenchArgs(['put']);
    expect(needsPrefill(['put', 'txn'], o)).toBe(false);
    expect(needsPrefill(['put', 'range-serializable'], o)).toBe(true);
    expect(needsPrefill(['mixed'], { ...o, prefill: false })).toBe(false);
  });

  it('writes the whole key space once, in order', () => {
    const o = parseBenchArgs(['range', '--key-space-size', '500', '--duration', '9']);
    const back = parseBenchArgs(prefillArgs(o, ['e:1']));
    expect(back).toMatchObject({
      workload: 'put',
      total: 500,
      duration: 0,
      sequentialKeys: true,
      prefill: false,
    });
  });
});

describe('medianRun', () => {
  const run = (throughput: number) => ({ bench: { throughput } as BenchResult });
  it('picks the median-throughput success and ignores failures', () => {
    expect(medianRun([run(3), { error: 'x' }, run(1), run(2)])!.bench!.throughput).toBe(2);
    expect(medianRun([run(5), run(1)])!.bench!.throughput).toBe(1);
  });

  it('falls back to the first failure, or nothing', () => {
    expect(medianRun([{ error: 'a' }, { error: 'b' }])).toEqual({ error: 'a' });
    expect(medianRun([])).toBeUndefined();
  });
});
