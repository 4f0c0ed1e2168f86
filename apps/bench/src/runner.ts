// Runs a share of the clients, in the current thread, and measures each request.
import { authenticate } from './auth';
import { Conn, openConns } from './conn';
import { Histogram } from './histogram';
import { BenchOptions } from './options';
import { PartResult } from './result';
import { workloadFor } from './workloads';

/** The part of the run one thread takes on. */
export interface Share {
  clients: number;
  conns: number;
  /** First connection index, so connections are numbered (and spread) across threads. */
  connOffset: number;
  /** Requests for this share (ignored in duration mode). */
  total: number;
  /** Request numbers are seqOffset, seqOffset + seqStride, ...: threads never repeat a number. */
  seqOffset: number;
  seqStride: number;
}

/** Splits n into `parts` near-equal integers, larger ones first. */
export function splitEvenly(n: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(n / parts) + (i < n % parts ? 1 : 0));
}

/** Divides clients, connections and requests among `workers` threads. */
export function shares(o: Pick<BenchOptions, 'clients' | 'conns' | 'total' | 'workers'>): Share[] {
  const clients = splitEvenly(o.clients, o.workers);
  const conns = splitEvenly(Math.max(o.conns, o.workers), o.workers);
  const totals = splitEvenly(o.total, o.workers);
  let offset = 0;
  return clients.map((c, i) => {
    const s = {
      clients: c,
      conns: Math.min(conns[i], c),
      connOffset: offset,
      total: totals[i],
      seqOffset: i,
      seqStride: o.workers,
    };
    offset += conns[i];
    return s;
  });
}

const nowMs = () => performance.timeOrigin + performance.now();

/**
 * Opens the share's connections and waits for them; then `go` is awaited (so every thread starts
 * at once) and the clients run until the share's requests are sent or the duration is over.
 */
export async function runShare(o: BenchOptions, share: Share, go: () => Promise<void>): Promise<PartResult> {
  const workload = workloadFor(o);
  const conns: Conn[] = openConns(o.transport, o.endpoints, share.conns, share.connOffset);
  try {
    await Promise.all(conns.map((c) => c.ready()));
    if (o.user) await Promise.all(conns.map((c) => authenticate(c, o.user)));
    await workload.open?.(conns);
    const clients = Array.from({ length: share.clients }, (_, i) =>
      workload.newClient(conns[i % conns.length]),
    );
    await Promise.all(clients.map((c) => c.ready?.()));
    const hist = new Histogram();
    let errors = 0;
    let firstError: string | undefined;
    let issued = 0;
    await go();
    const startMs = nowMs();
    const deadline = o.duration > 0 ? startMs + o.duration * 1000 : Infinity;
    const more = o.duration > 0 ? () => nowMs() < deadline : () => issued < share.total;

    const loop = async (c: (typeof clients)[number]) => {
      while (more()) {
        const seq = issued++ * share.seqStride + share.seqOffset;
        const t0 = performance.now();
        try {
          await c.issue(seq);
          hist.record((performance.now() - t0) * 1000);
        } catch (e) {
          errors++;
          firstError ??= e instanceof Error ? e.message : String(e);
        }
      }
    };
    await Promise.all(clients.map(loop));
    const endMs = nowMs();
    clients.forEach((c) => c.close?.());
    return { hist: hist.toData(), errors, firstError, startMs, endMs };
  } finally {
    workload.close?.();
    conns.forEach((c) => c.close());
  }
}
