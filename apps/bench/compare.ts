// `npm run bench:compare -- [options]`: starts etcd and Cairn in turn on loopback, runs the
// same workloads against each with the bench CLI (a fresh process per run), and prints both
// results side by side with the Cairn/etcd ratios.
import { spawn } from 'child_process';
import { existsSync } from 'fs';
import * as path from 'path';
import { startCluster, splitCommand } from './src/cluster';
import {
  benchArgsFor,
  CompareOptions,
  ComparisonRow,
  formatComparison,
  needsPrefill,
  parseCompareArgs,
  prefillArgs,
  System,
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

async function main(): Promise<void> {
  const o = parseCompareArgs(process.argv.slice(2));
  const root = findRepoRoot();
  const rows: ComparisonRow[] = o.workloads.map((workload) => ({ workload }));

  for (const system of o.systems) {
    const command = commandFor(system, o, root);
    log(`${system}: starting ${o.clusterSize} member(s): ${command.join(' ')}`);
    const cluster = await startCluster(system, command, o.clusterSize, extraArgsFor(system, o), {
      keepData: o.keepData,
      log,
    });
    try {
      if (needsPrefill(o.workloads, o.load)) {
        log(`${system}: writing the key space (${o.load.keySpaceSize} keys)`);
        await runBenchProcess(prefillArgs(o.load, cluster.endpoints));
      }
      for (const row of rows) {
        log(`${system}: ${row.workload} ...`);
        const cpu0 = cluster.cpuSeconds();
        try {
          const bench = await runBenchProcess(benchArgsFor(row.workload, o.load, cluster.endpoints));
          const cpu1 = cluster.cpuSeconds();
          const serverCpuSec = cpu0 !== undefined && cpu1 !== undefined ? cpu1 - cpu0 : undefined;
          row[system] = { bench, serverCpuSec };
          log(
            `${system}: ${row.workload}: ${bench.throughput.toFixed(0)} req/s, p99 ${bench.latencyMs.p99.toFixed(2)} ms`,
          );
        } catch (e) {
          row[system] = { error: e instanceof Error ? e.message : String(e) };
          log(`${system}: ${row.workload} failed: ${row[system]!.error}`);
        }
      }
    } finally {
      await cluster.stop();
    }
  }

  if (o.load.json) process.stdout.write(JSON.stringify(rows) + '\n');
  else process.stdout.write(formatComparison(rows) + '\n');
  const failed = rows.some((r) => r.etcd?.error || r.cairn?.error);
  process.exitCode = failed ? 1 : 0;
}

main().catch((e) => {
  log(`bench:compare: ${e instanceof Error ? e.message : e}`);
  process.exit(2);
});
