// Turns what the load threads measured into one summary, and prints it.
import { Histogram, HistogramData } from './histogram';
import { BenchOptions } from './options';

/** What one thread of load measured. Times are epoch milliseconds (comparable across threads). */
export interface PartResult {
  hist: HistogramData;
  errors: number;
  firstError?: string;
  startMs: number;
  endMs: number;
}

export interface LatencySummary {
  avg: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export interface BenchResult {
  workload: string;
  endpoints: string[];
  clients: number;
  conns: number;
  workers: number;
  /** Requests answered successfully. */
  total: number;
  errors: number;
  firstError?: string;
  durationSec: number;
  /** Successful requests per second over the whole run. */
  throughput: number;
  latencyMs: LatencySummary;
  /**
   * CPU the generator itself used while timing, in cores (1 = one core busy). On a small
   * machine this is what the load takes away from the server under test.
   */
  clientCpuCores: number;
}

export function summarize(h: Histogram): LatencySummary {
  const ms = (us: number) => us / 1000;
  return {
    avg: ms(h.mean()),
    min: ms(h.count ? h.min : 0),
    p50: ms(h.percentile(50)),
    p90: ms(h.percentile(90)),
    p99: ms(h.percentile(99)),
    p999: ms(h.percentile(99.9)),
    max: ms(h.max),
  };
}

/**
 * Merges the parts of one run. The run lasts from the first part's start to the last part's
 * end, since parts start together and the slowest one decides when the run is over.
 */
export function aggregate(
  parts: PartResult[],
  o: Pick<BenchOptions, 'endpoints' | 'clients' | 'conns' | 'workers'>,
  workload: string,
  clientCpuSec = 0,
): BenchResult {
  const hist = new Histogram();
  for (const p of parts) hist.merge(p.hist);
  const start = Math.min(...parts.map((p) => p.startMs));
  const end = Math.max(...parts.map((p) => p.endMs));
  const durationSec = parts.length ? Math.max(0, end - start) / 1000 : 0;
  const errors = parts.reduce((n, p) => n + p.errors, 0);
  const firstError = parts.find((p) => p.firstError)?.firstError;
  return {
    workload,
    endpoints: o.endpoints,
    clients: o.clients,
    conns: o.conns,
    workers: o.workers,
    total: hist.count,
    errors,
    ...(firstError ? { firstError } : {}),
    durationSec,
    throughput: durationSec > 0 ? hist.count / durationSec : 0,
    latencyMs: summarize(hist),
    clientCpuCores: durationSec > 0 ? clientCpuSec / durationSec : 0,
  };
}

const fix = (n: number, d = 3) => n.toFixed(d);

export function formatResult(r: BenchResult): string {
  const l = r.latencyMs;
  const lines = [
    `Workload:    ${r.workload} (${r.clients} clients, ${r.conns} conns, ${r.workers} worker${r.workers > 1 ? 's' : ''}) -> ${r.endpoints.join(',')}`,
    `Total:       ${r.total} requests`,
    `Errors:      ${r.errors}${r.firstError ? ` (first: ${r.firstError})` : ''}`,
    `Duration:    ${fix(r.durationSec)} s`,
    `Throughput:  ${fix(r.throughput, 1)} req/s`,
    `Client CPU:  ${fix(r.clientCpuCores, 2)} cores${r.total ? ` (${fix((r.clientCpuCores * r.durationSec * 1e6) / r.total, 0)} µs/request)` : ''}`,
    `Latency ms:  avg ${fix(l.avg)}  p50 ${fix(l.p50)}  p90 ${fix(l.p90)}  p99 ${fix(l.p99)}  p99.9 ${fix(l.p999)}  max ${fix(l.max)}`,
  ];
  return lines.join('\n');
}
