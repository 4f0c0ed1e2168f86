// A log-linear latency histogram (HDR-style): exact below 128 µs, then 64 sub-buckets per power
// of two, so any recorded value is reported within ~1.6%. Fixed-size and mergeable, which lets
// worker threads record independently and the coordinator add their counts together.

const SUB_BITS = 6;
const SUB = 1 << SUB_BITS; // sub-buckets per power of two
const LINEAR = SUB * 2; // values below this are kept exactly
const MAX_SHIFT = 31 - SUB_BITS; // up to 2^31 µs (~36 min)
export const BUCKETS = LINEAR + (MAX_SHIFT - 1) * SUB;

/** Bucket index of a value in microseconds (clamped to the covered range). */
export function bucketOf(us: number): number {
  const v = Math.min(Math.max(0, Math.floor(us)), 2 ** 31 - 1);
  if (v < LINEAR) return v;
  const shift = 31 - Math.clz32(v) - SUB_BITS; // makes v >> shift land in [SUB, 2*SUB)
  return LINEAR + (shift - 1) * SUB + ((v >> shift) - SUB);
}

/** Smallest and largest value (µs) that fall into a bucket. */
export function bucketRange(index: number): [number, number] {
  if (index < LINEAR) return [index, index];
  const k = index - LINEAR;
  const shift = Math.floor(k / SUB) + 1;
  const sub = (k % SUB) + SUB;
  return [sub * 2 ** shift, (sub + 1) * 2 ** shift - 1];
}

/** The plain-data form that crosses thread boundaries and is summed on merge. */
export interface HistogramData {
  counts: number[]; // sparse: [bucket, count, bucket, count, ...]
  count: number;
  sum: number;
  min: number;
  max: number;
}

export class Histogram {
  private readonly counts = new Float64Array(BUCKETS);
  count = 0;
  sum = 0;
  min = Infinity;
  max = 0;

  record(us: number): void {
    this.counts[bucketOf(us)]++;
    this.count++;
    this.sum += us;
    if (us < this.min) this.min = us;
    if (us > this.max) this.max = us;
  }

  merge(other: HistogramData | Histogram): this {
    const data = other instanceof Histogram ? other.toData() : other;
    for (let i = 0; i < data.counts.length; i += 2) this.counts[data.counts[i]] += data.counts[i + 1];
    if (data.count === 0) return this; // an empty side has no meaningful min/max
    this.count += data.count;
    this.sum += data.sum;
    this.min = Math.min(this.min, data.min);
    this.max = Math.max(this.max, data.max);
    return this;
  }

  mean(): number {
    return this.count ? this.sum / this.count : 0;
  }

  /**
   * The value at percentile p (0..100): the midpoint of the bucket holding the ceil(p% * n)-th
   * smallest sample, clamped to the exact min and max; the first and last sample are exact.
   */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    if (rank >= this.count) return this.max;
    if (rank === 1) return this.min;
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) {
        const [lo, hi] = bucketRange(i);
        return Math.min(this.max, Math.max(this.min, (lo + hi) / 2));
      }
    }
    return this.max;
  }

  toData(): HistogramData {
    const counts: number[] = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i]) counts.push(i, this.counts[i]);
    // min is reported as 0 when empty so the data survives JSON (Infinity does not).
    return { counts, count: this.count, sum: this.sum, min: this.count ? this.min : 0, max: this.max };
  }

  static fromData(data: HistogramData): Histogram {
    return new Histogram().merge(data);
  }
}
