import { parseRevKey, revKey } from './encoding';

describe('revision keys', () => {
  const revisions = [
    [0, 0],
    [1, 2],
    [0xffffffff, 5],
    [0x100000000, 0x100000007],
    [2 ** 48 - 1, 2 ** 47 + 3],
    [123456789012, 99],
  ];

  it('lay out main and sub as big-endian 64-bit words and parse back', () => {
    for (const [main, sub] of revisions) {
      const key = revKey(main, sub);
      expect(key.length).toBe(17);
      expect(key.readBigUInt64BE(1)).toBe(BigInt(main));
      expect(key.readBigUInt64BE(9)).toBe(BigInt(sub));
      expect(parseRevKey(key)).toEqual({ main, sub });
    }
  });

  it('sort in revision order as bytes', () => {
    const sorted = [...revisions].sort(([a, b], [c, d]) => a - c || b - d);
    const keys = revisions.map(([main, sub]) => revKey(main, sub)).sort(Buffer.compare);
    expect(keys.map(parseRevKey)).toEqual(sorted.map(([main, sub]) => ({ main, sub })));
  });
});
