/** An unbounded queue read as an async iterator; `fail` ends it with an error after the queued items. */
export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private readonly waiters: Array<{ ok: (r: IteratorResult<T>) => void; fail: (e: unknown) => void }> = [];
  private ended = false;
  private error: unknown;

  constructor(private readonly onReturn?: () => void) {}

  push(item: T): void {
    if (this.ended) return;
    const w = this.waiters.shift();
    if (w) w.ok({ value: item, done: false });
    else this.items.push(item);
  }

  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.error = error;
    for (const w of this.waiters.splice(0)) {
      if (error === undefined) w.ok({ value: undefined, done: true });
      else w.fail(error);
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length) return Promise.resolve({ value: this.items.shift()!, done: false });
    if (this.ended) {
      if (this.error === undefined) return Promise.resolve({ value: undefined, done: true });
      const e = this.error;
      this.error = undefined; // report the failure once, then behave as finished
      return Promise.reject(e);
    }
    return new Promise((ok, fail) => this.waiters.push({ ok, fail }));
  }

  return(): Promise<IteratorResult<T>> {
    this.items.length = 0;
    this.end();
    this.onReturn?.();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
