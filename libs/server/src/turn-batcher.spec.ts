import { TurnBatcher } from './turn-batcher';

describe('TurnBatcher', () => {
  it('runs the items of one turn as one batch and answers each caller with its own result', async () => {
    const batches: number[][] = [];
    const b = new TurnBatcher<number, string>(async (items) => {
      batches.push(items);
      return items.map((i) => `r${i}`);
    });
    const first = await Promise.all([b.add(1), b.add(2), b.add(3)]);
    const second = await b.add(4);
    expect(first).toEqual(['r1', 'r2', 'r3']);
    expect(second).toBe('r4');
    expect(batches).toEqual([[1, 2, 3], [4]]);
  });

  it('rejects every caller of a failed batch, and the next batch runs anew', async () => {
    let fail = true;
    const b = new TurnBatcher<number, number>(async (items) => {
      if (fail) throw new Error('leader gone');
      return items.map((i) => i * 2);
    });
    const failed = await Promise.allSettled([b.add(1), b.add(2)]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await expect(b.add(5)).resolves.toBe(10);
  });
});
