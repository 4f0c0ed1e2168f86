import fc from 'fast-check';
import { uint64Bits, uint64FromBits } from './etcd-types';
import { decodeInternalRequest, encodeInternalRequest, encodeWithProtobufjs } from './internal-request';

describe('internal requests', () => {
  it.each([0n, 1n, 0xffffffffn, 2n ** 53n + 1n, 0x3760a4ec3b84f7fan, 2n ** 64n - 1n])(
    'carries the id %s through the log as its decimal text',
    (id) => {
      const decoded = decodeInternalRequest(
        encodeInternalRequest({
          id: uint64Bits(id),
          put: { key: Buffer.from('k'), value: Buffer.from('v') },
        }),
      );
      // Zero is protobuf's default and is not on the wire: it decodes as absent, as before.
      if (id === 0n) expect(decoded.id).toBeUndefined();
      else expect(decoded.id).toBe(id.toString());
      expect(decoded.put?.key).toEqual(Buffer.from('k'));
    },
  );

  it('decodes the other 64-bit fields as decimal text', () => {
    const decoded = decodeInternalRequest(
      encodeInternalRequest({
        id: '42',
        put: { key: Buffer.from('k'), value: Buffer.from(''), lease: '9223372036854775807' },
        auth_info: { username: 'u', auth_revision: '18446744073709551615' },
      } as never),
    );
    expect(decoded.id).toBe('42');
    expect(decoded.put?.lease).toBe('9223372036854775807');
    expect(decoded.auth_info).toEqual({ username: 'u', auth_revision: '18446744073709551615' });
  });

  it('reads halves back as the uint64 they hold', () => {
    expect(uint64FromBits({ low: -1, high: -1 }).toString()).toBe('18446744073709551615');
    expect(uint64FromBits({ low: 5, high: 1 }).toString()).toBe('4294967301');
    expect(uint64FromBits(uint64Bits(7n)).toString()).toBe('7');
  });
});

describe('a put written by hand', () => {
  const generic = (req: object) => Buffer.from(encodeWithProtobufjs(req as never));

  const uint64 = fc.oneof(
    fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map(uint64Bits),
    fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map(String),
    fc.nat(),
  );
  const put = fc.record(
    {
      key: fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
      value: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
      lease: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }).map(String),
      prev_kv: fc.boolean(),
      ignore_value: fc.boolean(),
      ignore_lease: fc.boolean(),
    },
    { requiredKeys: ['key'] },
  );
  const authInfo = fc.record(
    { username: fc.string({ unit: 'grapheme', maxLength: 20 }), auth_revision: uint64 },
    { requiredKeys: [] },
  );
  const request = fc.record({ id: uint64, put, auth_info: authInfo }, { requiredKeys: ['id', 'put'] });

  it("is protobufjs's bytes, and decodes as the put it was", () => {
    fc.assert(
      fc.property(request, (req) => {
        const bytes = Buffer.from(encodeInternalRequest(req as never));
        expect(bytes.equals(generic(req))).toBe(true);
        expect(decodeInternalRequest(bytes).put?.key ?? Buffer.alloc(0)).toEqual(req.put.key);
      }),
      { numRuns: 500 },
    );
  });

  it('a put with any other request beside it is left to protobufjs', () => {
    const req = { id: '1', put: { key: Buffer.from('k') }, txn: {} };
    expect(Buffer.from(encodeInternalRequest(req as never))).toEqual(generic(req));
  });
});
