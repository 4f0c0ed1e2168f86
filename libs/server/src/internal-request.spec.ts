import { uint64Bits, uint64FromBits } from './etcd-types';
import { decodeInternalRequest, encodeInternalRequest } from './internal-request';

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
