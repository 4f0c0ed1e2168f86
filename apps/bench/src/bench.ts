// Runs one benchmark: set-up, then the load from this thread or from --workers threads, then
// one merged result. Threads matter because grpc-js spends most of the client's CPU; one
// Node thread tops out well before a fast server does.
import { once } from 'events';
import { existsSync } from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { authenticate } from './auth';
import { openConn } from './conn';
import { BenchOptions } from './options';
import { aggregate, BenchResult, PartResult } from './result';
import { runShare, Share, shares } from './runner';
import { workloadFor } from './workloads';

export async function runBench(o: BenchOptions): Promise<BenchResult> {
  const workload = workloadFor(o); // validates the workload's options up front
  if (workload.setup) {
    const conn = openConn(o.transport, o.endpoints[0], -1);
    try {
      await conn.ready();
      if (o.user) await authenticate(conn, o.user);
      await workload.setup(conn);
    } finally {
      conn.close();
    }
  }
  const plan = shares(o);
  // CPU is counted from "go" to the end: process-wide, so it includes every load thread.
  let cpu0: NodeJS.CpuUsage | undefined;
  const go = () => void (cpu0 = process.cpuUsage());
  const parts =
    o.workers === 1 ? [await runShare(o, plan[0], async () => go())] : await runInWorkers(o, plan, go);
  const cpu = process.cpuUsage(cpu0);
  return aggregate(parts, o, workload.name, (cpu.user + cpu.system) / 1e6);
}

/** Messages between the coordinator and a load thread. */
export type ToWorker = { type: 'go' };
export type FromWorker =
  { type: 'ready' } | { type: 'done'; part: PartResult } | { type: 'error'; message: string };
export interface WorkerInput {
  options: BenchOptions;
  share: Share;
}

async function runInWorkers(o: BenchOptions, plan: Share[], go: () => void): Promise<PartResult[]> {
  const file = path.join(__dirname, 'worker.js');
  if (!existsSync(file)) throw new Error(`--workers needs the compiled ${file} (run the build first)`);
  const workers = plan.map(
    (share) => new Worker(file, { workerData: { options: o, share } satisfies WorkerInput }),
  );
  try {
    const next = (w: Worker) =>
      once(w, 'message').then((args) => {
        const m = args[0] as FromWorker;
        if (m.type === 'error') throw new Error(m.message);
        return m;
      });
    // Everyone connects first; then all start together.
    await Promise.all(workers.map(next));
    const done = workers.map(next);
    go();
    workers.forEach((w) => w.postMessage({ type: 'go' } satisfies ToWorker));
    const results = await Promise.all(done);
    return results.map((m) => (m as Extract<FromWorker, { type: 'done' }>).part);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
