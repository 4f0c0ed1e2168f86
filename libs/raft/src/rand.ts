/** The only source of randomness the library uses: election timeout jitter. */
export interface RandomSource {
  /** A uniformly distributed integer in [0, n). */
  intn(n: number): number;
}

/**
 * A small seeded PRNG (mulberry32). Not cryptographic; its job is to make every
 * run reproducible from its seed.
 */
export class SeededRandom implements RandomSource {
  private state: number;

  constructor(seed: number | bigint) {
    // Fold 64-bit seeds (e.g. node ids) into 32 bits.
    const s = typeof seed === 'bigint' ? Number(BigInt.asUintN(32, seed ^ (seed >> 32n))) : seed;
    this.state = s >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  intn(n: number): number {
    return Math.floor(this.next() * n);
  }
}
