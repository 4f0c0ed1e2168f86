import { parseRevKey, revKey, writeInt64BE, writeUint64BE } from './encoding';

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

describe('64-bit writers', () => {
  const signed = [
    0n,
    1n,
    255n,
    0xffffffffn,
    1n << 32n,
    (1n << 53n) - 1n,
    1n << 53n,
    (1n << 63n) - 1n,
    -1n,
    -(1n << 63n),
  ];
  const unsigned = [
    0n,
    1n,
    0xffffffffn,
    1n << 32n,
    (1n << 53n) - 1n,
    1n << 53n,
    (1n << 53n) + 1n,
    (1n << 64n) - 1n,
  ];

  it.each(signed.map((v) => [v]))('writeInt64BE(%s) writes what writeBigInt64BE writes', (v) => {
    const ours = Buffer.alloc(10, 0xaa);
    const node = Buffer.alloc(10, 0xaa);
    writeInt64BE(ours, v, 1);
    node.writeBigInt64BE(v, 1);
    expect(ours).toEqual(node);
  });

  it.each(unsigned.map((v) => [v]))('writeUint64BE(%s) writes what writeBigUInt64BE writes', (v) => {
    const ours = Buffer.alloc(10, 0xaa);
    const node = Buffer.alloc(10, 0xaa);
    writeUint64BE(ours, v, 1);
    node.writeBigUInt64BE(v, 1);
    expect(ours).toEqual(node);
  });
});
