import { Histogram } from './histogram';
import { aggregate, formatResult, PartResult } from './result';

const part = (
  values: number[],
  startMs: number,
  endMs: number,
  errors = 0,
  firstError?: string,
): PartResult => {
  const h = new Histogram();
  values.forEach((v) => h.record(v));
  return { hist: h.toData(), errors, firstError, startMs, endMs };
};

const o = { endpoints: ['127.0.0.1:2379'], clients: 4, conns: 2, workers: 2 };

describe('aggregate', () => {
  it('merges parts over the span from first start to last end', () => {
    const r = aggregate(
      [part([1000, 2000, 3000], 10_000, 11_000), part([4000], 10_100, 12_000, 2, 'boom')],
      o,
      'put',
    );
    expect(r.total).toBe(4);
    expect(r.errors).toBe(2);
    expect(r.firstError).toBe('boom');
    expect(r.durationSec).toBe(2);
    expect(r.throughput).toBe(2);
    expect(r.latencyMs.avg).toBe(2.5);
    expect(r.latencyMs.min).toBe(1);
    expect(r.latencyMs.max).toBe(4);
    expect(r.latencyMs.p50).toBeCloseTo(2, 1);
    expect(r.workload).toBe('put');
    expect(r.workers).toBe(2);
  });

  it('copes with a run where nothing succeeded', () => {
    const r = aggregate([part([], 0, 1000, 5, 'refused')], o, 'range');
    expect(r.total).toBe(0);
    expect(r.throughput).toBe(0);
    expect(r.latencyMs).toEqual({ avg: 0, min: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 });
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });
});

describe('formatResult', () => {
  it('prints totals, throughput and the latency line', () => {
    const text = formatResult(aggregate([part([1000, 3000], 0, 1000, 1, 'x')], o, 'txn'));
    expect(text).toContain('Workload:    txn (4 clients, 2 conns, 2 workers)');
    expect(text).toContain('Total:       2 requests');
    expect(text).toContain('Errors:      1 (first: x)');
    expect(text).toContain('Throughput:  2.0 req/s');
    expect(text).toMatch(/Latency ms: {2}avg 2\.000 {2}p50 1\.0\d\d .* max 3\.000/);
  });
});
