// `npm run bench:compare -- [options]`: starts etcd and Cairn on loopback, runs the same
// workloads against each with the bench CLI (a fresh process per run), and prints both
// results side by side with the Cairn/etcd ratios. With --rounds N each cell is the run with
// the median throughput.
import { spawn } from 'child_process';
import { existsSync } from 'fs';
import * as path from 'path';
import { enableBenchAuth } from './src/auth';
import { RunningCluster, startCluster, splitCommand } from './src/cluster';
import { openConn } from './src/conn';
import {
  benchArgsFor,
  CompareOptions,
  ComparisonRow,
  formatComparison,
  needsPrefill,
  parseCompareArgs,
  medianRun,
  prefillArgs,
  SideResult,
  System,
  warmupArgs,
} from './src/comparison';
import { trackChild } from './src/processes';
import { findRepoRoot } from './src/proto';
import { BenchResult } from './src/result';

const log = (s: string) => process.stderr.write(s + '\n');

function commandFor(system: System, o: CompareOptions, root: string): string[] {
  if (system === 'etcd') return splitCommand(o.etcdCmd);
  if (o.cairnCmd) return splitCommand(o.cairnCmd);
  const main = path.join(root, 'dist/apps/cairn/main.js');
  if (!existsSync(main)) throw new Error(`${main} not found: build Cairn first (npm run build)`);
  return [process.execPath, main];
}

function extraArgsFor(system: System, o: CompareOptions): string[] {
  if (system === 'etcd') return ['--quota-backend-bytes', String(o.quotaBackendBytes), ...o.etcdArgs];
  return o.cairnArgs;
}

/** Runs one workload in a child `bench` process and returns its JSON result. */
function runBenchProcess(args: string[]): Promise<BenchResult> {
  return new Promise((resolve, reject) => {
    const child = trackChild(
      spawn(process.execPath, [path.join(__dirname, 'main.js'), ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    child.once('exit', (code) => {
      try {
        resolve(JSON.parse(out) as BenchResult);
      } catch {
        reject(new Error(`bench exited ${code}: ${(err || out).trim().slice(-2000)}`));
      }
    });
  });
}

async function start(system: System, o: CompareOptions, root: string): Promise<RunningCluster> {
  const command = commandFor(system, o, root);
  log(`${system}: starting ${o.clusterSize} member(s): ${command.join(' ')}`);
  const cluster = await startCluster(system, command, o.clusterSize, extraArgsFor(system, o), {
    keepData: o.keepData,
    log,
  });
  if (o.auth) {
    log(`${system}: enabling auth`);
    const conn = openConn(o.load.transport, cluster.endpoints[0], -1);
    try {
      await conn.ready();
      await enableBenchAuth(conn);
    } finally {
      conn.close();
    }
  }
  if (needsPrefill(o.workloads, o.load)) {
    log(`${system}: writing the key space (${o.load.keySpaceSize} keys)`);
    await runBenchProcess(prefillArgs(o.load, cluster.endpoints));
  }
  return cluster;
}

/** Sends every workload to a system once, untimed (see --warmup). */
async function warmUp(system: System, o: CompareOptions, cluster: RunningCluster): Promise<void> {
  if (o.warmup === 0) return;
  for (const w of o.workloads) {
    log(`${system}: warming up with ${o.warmup} requests of ${w}`);
    await runBenchProcess(warmupArgs(w, o.load, o.warmup, cluster.endpoints));
  }
}

/** One workload against one system, with the server CPU it cost. */
async function runOne(
  system: System,
  workload: string,
  o: CompareOptions,
  cluster: RunningCluster,
): Promise<SideResult> {
  log(`${system}: ${workload} ...`);
  const cpu0 = cluster.cpuSeconds();
  try {
    const bench = await runBenchProcess(benchArgsFor(workload, o.load, cluster.endpoints));
    const cpu1 = cluster.cpuSeconds();
    const serverCpuSec = cpu0 !== undefined && cpu1 !== undefined ? cpu1 - cpu0 : undefined;
    log(
      `${system}: ${workload}: ${bench.throughput.toFixed(0)} req/s, p99 ${bench.latencyMs.p99.toFixed(2)} ms`,
    );
    return { bench, serverCpuSec };
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    log(`${system}: ${workload} failed: ${error}`);
    return { error };
  }
}

async function main(): Promise<void> {
  const o = parseCompareArgs(process.argv.slice(2));
  const root = findRepoRoot();
  const runs = new Map<string, SideResult[]>(); // "workload/system" -> one result per round
  const record = (w: string, s: System, r: SideResult) =>
    runs.set(`${w}/${s}`, [...(runs.get(`${w}/${s}`) ?? []), r]);

  if (o.oneAtATime) {
    // Each system alone on the machine: no idle peer, but slower drift between the two is not cancelled.
    for (const system of o.systems) {
      const cluster = await start(system, o, root);
      try {
        await warmUp(system, o, cluster);
        for (let round = 0; round < o.rounds; round++)
          for (const w of o.workloads) record(w, system, await runOne(system, w, o, cluster));
      } finally {
        await cluster.stop();
      }
    }
  } else {
    // Both systems up at once and runs interleaved (order flipped every round), so that load
    // from elsewhere on the machine hits both sides alike.
    const clusters = new Map<System, RunningCluster>();
    try {
      for (const system of o.systems) clusters.set(system, await start(system, o, root));
      for (const system of o.systems) await warmUp(system, o, clusters.get(system)!);
      for (let round = 0; round < o.rounds; round++)
        for (const w of o.workloads)
          for (const system of round % 2 ? [...o.systems].reverse() : o.systems)
            record(w, system, await runOne(system, w, o, clusters.get(system)!));
    } finally {
      await Promise.all([...clusters.values()].map((c) => c.stop()));
    }
  }

  const rows: ComparisonRow[] = o.workloads.map((workload) => ({
    workload,
    ...Object.fromEntries(o.systems.map((s) => [s, medianRun(runs.get(`${workload}/${s}`) ?? [])])),
  }));
  if (o.load.json) process.stdout.write(JSON.stringify({ rows, runs: Object.fromEntries(runs) }) + '\n');
  else process.stdout.write(formatComparison(rows) + '\n');
  const failed = rows.some((r) => r.etcd?.error || r.cairn?.error);
  process.exitCode = failed ? 1 : 0;
}

main().catch((e) => {
  log(`bench:compare: ${e instanceof Error ? e.message : e}`);
  process.exit(2);
});
