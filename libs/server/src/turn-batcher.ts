/**
 * Gathers the items added during one event-loop turn and hands them to `run` together (after
 * the turn, on setImmediate), resolving each caller with the result at its position. A failure
 * of the batch rejects every caller in it.
 */
export class TurnBatcher<T, R> {
  private pending: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];

  constructor(private readonly run: (items: T[]) => Promise<R[]>) {}

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(() => this.flush());
      this.pending.push({ item, resolve, reject });
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    this.run(batch.map((p) => p.item)).then(
      (results) => batch.forEach((p, i) => p.resolve(results[i])),
      (err) => batch.forEach((p) => p.reject(err)),
    );
  }
}
