import { huffmanDecode, huffmanEncode } from './huffman';

const PRINTABLE = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join('');

describe('HPACK Huffman code', () => {
  // The examples of RFC 7541, appendix C.4.
  it.each([
    ['www.example.com', 'f1e3c2e5f23a6ba0ab90f4ff'],
    ['no-cache', 'a8eb10649cbf'],
    ['custom-key', '25a849e95ba97d7f'],
    ['custom-value', '25a849e95bb8e8b4bf'],
  ])('encodes and decodes %j as in RFC 7541', (text, hex) => {
    expect(huffmanEncode(text).toString('hex')).toBe(hex);
    expect(huffmanDecode(Buffer.from(hex, 'hex'))).toBe(text);
  });

  it('round-trips every printable ASCII character', () => {
    expect(huffmanDecode(huffmanEncode(PRINTABLE))).toBe(PRINTABLE);
    for (const c of PRINTABLE) expect(huffmanDecode(huffmanEncode(c.repeat(3)))).toBe(c.repeat(3));
  });

  it('refuses padding that is not ones or is a byte or longer, and symbols it leaves out', () => {
    expect(huffmanDecode(Buffer.from([0x07]))).toBe('0'); // 00000 then 111
    expect(huffmanDecode(Buffer.from([0x06]))).toBeUndefined(); // padding 110
    expect(huffmanDecode(Buffer.from([0x07, 0xff]))).toBeUndefined(); // 11 bits of padding
    expect(huffmanDecode(Buffer.from([0xff, 0xff, 0xff, 0xff]))).toBeUndefined(); // EOS territory
    expect(() => huffmanEncode('\n')).toThrow(/no Huffman code/);
  });
});
