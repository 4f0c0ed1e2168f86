import { shares, splitEvenly } from './runner';

describe('splitEvenly', () => {
  it('splits into near-equal parts, larger first', () => {
    expect(splitEvenly(10, 3)).toEqual([4, 3, 3]);
    expect(splitEvenly(2, 4)).toEqual([1, 1, 0, 0]);
    expect(splitEvenly(7, 1)).toEqual([7]);
  });
});

describe('shares', () => {
  it('divides clients, connections and requests among workers', () => {
    const s = shares({ clients: 200, conns: 20, total: 100001, workers: 3 });
    expect(s.map((x) => x.clients)).toEqual([67, 67, 66]);
    expect(s.map((x) => x.conns)).toEqual([7, 7, 6]);
    expect(s.map((x) => x.connOffset)).toEqual([0, 7, 14]);
    expect(s.reduce((n, x) => n + x.total, 0)).toBe(100001);
    expect(s.map((x) => [x.seqOffset, x.seqStride])).toEqual([
      [0, 3],
      [1, 3],
      [2, 3],
    ]);
  });

  it('gives each worker at least one connection', () => {
    const s = shares({ clients: 8, conns: 1, total: 10, workers: 2 });
    expect(s.map((x) => x.conns)).toEqual([1, 1]);
  });

  it('is the whole run for one worker', () => {
    expect(shares({ clients: 200, conns: 20, total: 1000, workers: 1 })).toEqual([
      { clients: 200, conns: 20, connOffset: 0, total: 1000, seqOffset: 0, seqStride: 1 },
    ]);
  });
});
