/** One scheduled expiry: stale once its lease is renewed, revoked or rescheduled. */
export interface ExpiryItem {
  id: bigint;
  at: number;
}

/**
 * A binary min-heap of lease expiries. Renewals push a new item rather than moving the old
 * one; the lessor drops items that no longer match their lease when they reach the top.
 */
export class ExpiryHeap {
  private items: ExpiryItem[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): ExpiryItem | undefined {
    return this.items[0];
  }

  push(item: ExpiryItem): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent].at <= a[i].at) break;
      [a[parent], a[i]] = [a[i], a[parent]];
      i = parent;
    }
  }

  pop(): ExpiryItem | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let min = i;
        if (l < a.length && a[l].at < a[min].at) min = l;
        if (r < a.length && a[r].at < a[min].at) min = r;
        if (min === i) break;
        [a[min], a[i]] = [a[i], a[min]];
        i = min;
      }
    }
    return top;
  }

  /** Rebuilds the heap from the given items (dropping every stale one). */
  reset(items: ExpiryItem[]): void {
    this.items = [];
    for (const item of items) this.push(item);
  }
}
