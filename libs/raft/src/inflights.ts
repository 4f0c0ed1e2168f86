/**
 * The MsgApp messages in flight to one follower (identified by the last index
 * each carries), bounded by count and optionally by total bytes. A ring buffer:
 * entries are added in increasing index order and freed from the front.
 */
export class Inflights {
  private start = 0;
  private count = 0;
  private bytes = 0;
  private readonly indexes: bigint[];
  private readonly sizes: number[];

  constructor(
    readonly capacity: number,
    readonly maxBytes = 0,
  ) {
    this.indexes = new Array<bigint>(capacity);
    this.sizes = new Array<number>(capacity);
  }

  /** A fresh, empty window with the same limits. */
  clone(): Inflights {
    const c = new Inflights(this.capacity, this.maxBytes);
    for (let i = 0; i < this.count; i++) {
      const k = (this.start + i) % this.capacity;
      c.add(this.indexes[k], this.sizes[k]);
    }
    return c;
  }

  add(index: bigint, bytes: number): void {
    if (this.count === this.capacity) throw new Error('cannot add into a full inflights');
    let next = this.start + this.count;
    if (next >= this.capacity) next -= this.capacity;
    this.indexes[next] = index;
    this.sizes[next] = bytes;
    this.count++;
    this.bytes += bytes;
  }

  /** Frees every message whose last index is <= to (they were acknowledged). */
  freeLE(to: bigint): void {
    if (this.count === 0 || to < this.indexes[this.start]) return;
    let idx = this.start;
    let i = 0;
    let freed = 0;
    for (; i < this.count; i++) {
      if (to < this.indexes[idx]) break;
      freed += this.sizes[idx];
      idx++;
      if (idx >= this.capacity) idx -= this.capacity;
    }
    this.count -= i;
    this.bytes -= freed;
    this.start = this.count === 0 ? 0 : idx;
  }

  /** Frees the oldest message; used to unstick a window whose messages were all lost. */
  freeFirstOne(): void {
    if (this.count === 0) return;
    this.freeLE(this.indexes[this.start]);
  }

  full(): boolean {
    return this.count === this.capacity || (this.maxBytes !== 0 && this.bytes >= this.maxBytes);
  }

  size(): number {
    return this.count;
  }

  totalBytes(): number {
    return this.bytes;
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
    this.bytes = 0;
  }
}
