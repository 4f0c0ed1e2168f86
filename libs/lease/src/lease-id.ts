const MASK_48 = (1n << 48n) - 1n;
const MAX_INT64 = (1n << 63n) - 1n;

/**
 * Lease ids for grants that name none, as etcd makes them: the member id's low 16 bits, then
 * a 48-bit counter seeded with the start time in milliseconds, cleared to a positive int64
 * (ids are int64 on the wire). Ids from different members or restarts do not collide.
 */
export class LeaseIdGenerator {
  private readonly prefix: bigint;
  private suffix: bigint;

  constructor(memberId: bigint, nowMs: number = Date.now()) {
    this.prefix = (memberId & 0xffffn) << 48n;
    this.suffix = (BigInt(nowMs) << 8n) & MASK_48;
  }

  next(): bigint {
    for (;;) {
      this.suffix = (this.suffix + 1n) & MASK_48;
      const id = (this.prefix | this.suffix) & MAX_INT64;
      if (id !== 0n) return id;
    }
  }
}
