// The pure half of `bench:compare`: its options, the bench command line for each workload,
// and the side-by-side table.
import yargs from 'yargs';
import { BENCH_USER } from './auth';
import { BenchOptions, loadOptionsFrom, withLoadOptions } from './options';
import { BenchResult } from './result';

/** Compare-level workload names and the bench arguments each one stands for. */
export const COMPARE_WORKLOADS: Record<string, string[]> = {
  put: ['put'],
  range: ['range', '--consistency', 'l'],
  'range-serializable': ['range', '--consistency', 's'],
  txn: ['txn'],
  mixed: ['mixed'],
  'lease-keepalive': ['lease-keepalive'],
  watch: ['watch'],
};
export const DEFAULT_COMPARE_WORKLOADS = ['put', 'range', 'range-serializable', 'txn'];

export interface CompareOptions {
  workloads: string[];
  /** Load options shared by every run; `workload` and `endpoints` are filled in per run. */
  load: BenchOptions;
  clusterSize: number;
  keepData: boolean;
  /** Which systems to run, in order (default etcd then cairn). */
  systems: System[];
  etcdCmd: string;
  cairnCmd?: string;
  etcdArgs: string[];
  cairnArgs: string[];
  quotaBackendBytes: number;
  /** Runs per workload and system; the median-throughput run is reported. */
  rounds: number;
  /** Requests of each workload sent to each system, untimed, before the first round. */
  warmup: number;
  /** Run the systems one after the other instead of side by side. */
  oneAtATime: boolean;
  /** Turn auth on in both systems and run as a non-root user (see auth.ts). */
  auth: boolean;
}

export function parseCompareArgs(args: string[]): CompareOptions {
  const argv = withLoadOptions(yargs(args))
    .scriptName('bench:compare')
    .usage('$0 [options]: the same workloads against etcd and Cairn, side by side')
    .option('workloads', {
      type: 'string',
      default: DEFAULT_COMPARE_WORKLOADS.join(','),
      describe: `comma list of ${Object.keys(COMPARE_WORKLOADS).join(', ')}`,
    })
    .option('cluster-size', { type: 'number', default: 1, choices: [1, 3] })
    .option('keep-data', { type: 'boolean', default: false, describe: 'keep data dirs and server logs' })
    .option('systems', { type: 'string', default: 'etcd,cairn', describe: 'systems to run: etcd, cairn' })
    .option('etcd-cmd', { type: 'string', default: 'etcd', describe: 'command that starts an etcd member' })
    .option('cairn-cmd', {
      type: 'string',
      hidden: true,
      describe: 'command that starts a Cairn member (default: node dist/apps/cairn/main.js)',
    })
    .option('etcd-args', { type: 'string', default: '', describe: 'extra flags for every etcd member' })
    .option('cairn-args', { type: 'string', default: '', describe: 'extra flags for every Cairn member' })
    .option('quota-backend-bytes', { type: 'number', default: 8 * 1024 ** 3, describe: 'etcd backend quota' })
    .option('rounds', {
      type: 'number',
      default: 1,
      describe: 'runs per workload and system; the median is reported',
    })
    .option('warmup', {
      type: 'number',
      default: 10000,
      describe:
        'requests of each workload sent to each system, untimed, before the first round (0: none); ' +
        "a JIT-compiled server otherwise pays its compilation inside the first workload's timing",
    })
    .option('auth', {
      type: 'boolean',
      default: false,
      describe: 'enable auth in both systems and run as a non-root user with readwrite on the keys',
    })
    .option('one-at-a-time', {
      type: 'boolean',
      default: false,
      describe: 'start one system at a time instead of interleaving runs',
    })
    .help()
    .parseSync();
  if (!Number.isInteger(argv.rounds) || (argv.rounds as number) < 1)
    throw new Error('--rounds must be a positive integer');
  if (!Number.isInteger(argv.warmup) || (argv.warmup as number) < 0)
    throw new Error('--warmup must be a whole number of requests');
  const workloads = String(argv.workloads)
    .split(',')
    .map((w) => w.trim())
    .filter(Boolean);
  for (const w of workloads)
    if (!COMPARE_WORKLOADS[w])
      throw new Error(`unknown workload "${w}" (known: ${Object.keys(COMPARE_WORKLOADS).join(', ')})`);
  if (workloads.length === 0) throw new Error('--workloads is empty');
  const systems = String(argv.systems)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of systems) if (s !== 'etcd' && s !== 'cairn') throw new Error(`unknown system "${s}"`);
  const words = (s: unknown) =>
    String(s ?? '')
      .split(/\s+/)
      .filter(Boolean);
  return {
    workloads,
    load: { ...loadOptionsFrom(argv, workloads[0]), ...(argv.auth ? { user: BENCH_USER } : {}) },
    clusterSize: argv['cluster-size'] as number,
    keepData: argv['keep-data'] as boolean,
    systems: systems as System[],
    etcdCmd: argv['etcd-cmd'] as string,
    cairnCmd: argv['cairn-cmd'] as string | undefined,
    etcdArgs: words(argv['etcd-args']),
    cairnArgs: words(argv['cairn-args']),
    quotaBackendBytes: argv['quota-backend-bytes'] as number,
    rounds: argv.rounds as number,
    warmup: argv.warmup as number,
    oneAtATime: argv['one-at-a-time'] as boolean,
    auth: argv.auth as boolean,
  };
}

/** Whether any of the workloads reads keys (and so wants the key space written first). */
export function needsPrefill(workloads: string[], o: BenchOptions): boolean {
  return o.prefill && workloads.some((w) => ['range', 'mixed'].includes(COMPARE_WORKLOADS[w][0]));
}

/** The bench run that writes every key of the key space once, in order. */
export function prefillArgs(o: BenchOptions, endpoints: string[]): string[] {
  return benchArgsFor('put', { ...o, sequentialKeys: true, duration: 0, total: o.keySpaceSize }, endpoints);
}

/** The untimed run of `workload` before the first round: `warmup` requests, however the rounds are sized. */
export function warmupArgs(workload: string, o: BenchOptions, warmup: number, endpoints: string[]): string[] {
  return benchArgsFor(workload, { ...o, duration: 0, total: warmup }, endpoints);
}

/**
 * The `bench` command-line arguments for one workload run against the given endpoints. The
 * harness writes the key space itself (see prefillArgs), so runs never prefill on their own:
 * the server CPU measured around a run then belongs to the run alone.
 */
export function benchArgsFor(workload: string, o: BenchOptions, endpoints: string[]): string[] {
  // prettier-ignore
  const a = [
    ...COMPARE_WORKLOADS[workload],
    '--json',
    '--endpoints', endpoints.join(','),
    '--clients', String(o.clients),
    '--conns', String(o.conns),
    '--workers', String(o.workers),
    '--key-size', String(o.keySize),
    '--val-size', String(o.valSize),
    '--key-space-size', String(o.keySpaceSize),
    '--read-ratio', String(o.readRatio),
    '--txn-ops', String(o.txnOps),
    '--transport', o.transport,
    ...(o.user ? ['--user', o.user] : []),
    o.sequentialKeys ? '--sequential-keys' : '--no-sequential-keys',
    '--no-prefill',
  ];
  return o.duration > 0 ? [...a, '--duration', String(o.duration)] : [...a, '--total', String(o.total)];
}

export type System = 'etcd' | 'cairn';

/** One system's outcome for one workload. */
export interface SideResult {
  bench?: BenchResult;
  /** Why there is no result (e.g. the run failed). */
  error?: string;
  /** CPU seconds the server's processes used during the run (all members), when known. */
  serverCpuSec?: number;
}

export interface ComparisonRow {
  workload: string;
  etcd?: SideResult;
  cairn?: SideResult;
}

const ratio = (a?: number, b?: number) =>
  a !== undefined && b !== undefined && b > 0 ? (a / b).toFixed(2) : '-';
const num = (n: number | undefined, d: number) =>
  n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(d);

/** The successful run with the median throughput (the lower middle one for an even count), else the first failure. */
export function medianRun(runs: SideResult[]): SideResult | undefined {
  const ok = runs.filter((r) => r.bench).sort((a, b) => a.bench!.throughput - b.bench!.throughput);
  if (ok.length) return ok[Math.floor((ok.length - 1) / 2)];
  return runs[0];
}

/** Server CPU per successful request, in microseconds. */
export function serverCpuPerRequest(side?: SideResult): number | undefined {
  if (!side?.bench || side.serverCpuSec === undefined || side.bench.total === 0) return undefined;
  return (side.serverCpuSec * 1e6) / side.bench.total;
}

/** A fixed-width table: throughput, p99 and server CPU per request of each side, and the Cairn/etcd ratios. */
export function formatComparison(rows: ComparisonRow[]): string {
  const header = [
    'workload',
    'etcd req/s',
    'cairn req/s',
    'ratio',
    'etcd p99 ms',
    'cairn p99 ms',
    'ratio',
    'etcd cpu µs/req',
    'cairn cpu µs/req',
    'errors e/c',
  ];
  const body = rows.map(({ workload, etcd, cairn }) => [
    workload,
    num(etcd?.bench?.throughput, 0),
    num(cairn?.bench?.throughput, 0),
    ratio(cairn?.bench?.throughput, etcd?.bench?.throughput),
    num(etcd?.bench?.latencyMs.p99, 2),
    num(cairn?.bench?.latencyMs.p99, 2),
    ratio(cairn?.bench?.latencyMs.p99, etcd?.bench?.latencyMs.p99),
    num(serverCpuPerRequest(etcd), 0),
    num(serverCpuPerRequest(cairn), 0),
    `${etcd?.bench?.errors ?? '-'}/${cairn?.bench?.errors ?? '-'}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const notes = rows.flatMap((r) =>
    (['etcd', 'cairn'] as const).flatMap((sys) => [
      ...(r[sys]?.error ? [`${r.workload}: ${sys} run failed: ${r[sys]!.error}`] : []),
      ...(r[sys]?.bench?.firstError
        ? [`${r.workload}: ${sys} first error: ${r[sys]!.bench!.firstError}`]
        : []),
    ]),
  );
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line), ...notes].join('\n');
}
