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
  const SIGNED = [
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
  const UNSIGNED = [
    0n,
    1n,
    0xffffffffn,
    1n << 32n,
    (1n << 53n) - 1n,
    1n << 53n,
    (1n << 53n) + 1n,
    (1n << 64n) - 1n,
  ];
  const cases = [
    ...SIGNED.map((v) => ({
      name: 'writeInt64BE',
      ours: writeInt64BE,
      node: Buffer.prototype.writeBigInt64BE,
      v,
    })),
    ...UNSIGNED.map((v) => ({
      name: 'writeUint64BE',
      ours: writeUint64BE,
      node: Buffer.prototype.writeBigUInt64BE,
      v,
    })),
  ];

  it.each(cases)("$name($v) writes Node's BigInt writer's bytes", ({ ours, node, v }) => {
    const a = Buffer.alloc(10, 0xaa);
    const b = Buffer.alloc(10, 0xaa);
    ours(a, v, 1);
    node.call(b, v, 1);
    expect(a).toEqual(b);
  });
});
