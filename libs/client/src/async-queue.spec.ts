import { AsyncQueue } from './async-queue';

describe('AsyncQueue', () => {
  it('delivers pushed items in order, to waiting and later readers', async () => {
    const q = new AsyncQueue<number>();
    const first = q.next();
    q.push(1);
    q.push(2);
    expect(await first).toEqual({ value: 1, done: false });
    expect(await q.next()).toEqual({ value: 2, done: false });
  });

  it('ends after the queued items, failing once with the error', async () => {
    const q = new AsyncQueue<number>();
    q.push(1);
    q.end(new Error('boom'));
    q.push(2);
    expect(await q.next()).toEqual({ value: 1, done: false });
    await expect(q.next()).rejects.toThrow('boom');
    expect(await q.next()).toEqual({ value: undefined, done: true });
  });

  it('calls its return hook when a for-await loop breaks', async () => {
    let returned = false;
    const q = new AsyncQueue<number>(() => (returned = true));
    q.push(1);
    for await (const _ of q) break;
    expect(returned).toBe(true);
  });
});
