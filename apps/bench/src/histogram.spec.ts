import { BUCKETS, bucketOf, bucketRange, Histogram } from './histogram';

describe('histogram buckets', () => {
  it('are exact below 128 µs and contiguous above', () => {
    for (let v = 0; v < 128; v++) expect(bucketRange(bucketOf(v))).toEqual([v, v]);
    let prevHi = 127;
    for (let i = 128; i < BUCKETS; i++) {
      const [lo, hi] = bucketRange(i);
      expect(lo).toBe(prevHi + 1);
      prevHi = hi;
    }
  });

  it('put every value inside its bucket, within 1/64 relative width', () => {
    for (const v of [128, 129, 255, 256, 1000, 12345, 999999, 2 ** 30 + 7]) {
      const [lo, hi] = bucketRange(bucketOf(v));
      expect(v).toBeGreaterThanOrEqual(lo);
      expect(v).toBeLessThanOrEqual(hi);
      expect((hi - lo + 1) / lo).toBeLessThanOrEqual(1 / 64);
    }
  });

  it('clamps negative and huge values', () => {
    expect(bucketOf(-5)).toBe(0);
    expect(bucketOf(1e12)).toBe(BUCKETS - 1);
  });
});

describe('Histogram', () => {
  it('reports exact percentiles for small values', () => {
    const h = new Histogram();
    for (let v = 1; v <= 100; v++) h.record(v);
    expect(h.count).toBe(100);
    expect(h.mean()).toBeCloseTo(50.5);
    expect(h.percentile(50)).toBe(50);
    expect(h.percentile(90)).toBe(90);
    expect(h.percentile(99)).toBe(99);
    expect(h.percentile(100)).toBe(100);
    expect(h.percentile(0)).toBe(1);
  });

  it('keeps percentiles within ~1.6% for large values', () => {
    const h = new Histogram();
    const values = Array.from({ length: 10000 }, (_, i) => 1000 + i * 37); // 1 ms .. ~371 ms
    values.forEach((v) => h.record(v));
    for (const p of [50, 90, 99, 99.9]) {
      const exact = values[Math.ceil((p / 100) * values.length) - 1];
      expect(Math.abs(h.percentile(p) - exact) / exact).toBeLessThan(0.016);
    }
    expect(h.percentile(100)).toBe(values[values.length - 1]); // max is exact
  });

  it('merges like recording everything in one', () => {
    const a = new Histogram();
    const b = new Histogram();
    const all = new Histogram();
    for (let i = 0; i < 5000; i++) {
      const v = (i * 7919) % 100000;
      (i % 3 ? a : b).record(v);
      all.record(v);
    }
    const merged = Histogram.fromData(JSON.parse(JSON.stringify(a.toData()))).merge(b.toData());
    expect(merged.toData()).toEqual(all.toData());
    for (const p of [1, 50, 99, 99.9]) expect(merged.percentile(p)).toBe(all.percentile(p));
  });

  it('treats an empty histogram as neutral', () => {
    const empty = new Histogram();
    expect(empty.percentile(99)).toBe(0);
    expect(empty.mean()).toBe(0);
    const h = new Histogram();
    h.record(500);
    h.merge(empty.toData());
    expect(h.min).toBe(500);
    expect(h.count).toBe(1);
  });
});
