// HPACK's Huffman code (RFC 7541, appendix B), for the characters a gRPC server puts in the
// header names and values the bench reads: printable ASCII. gRPC percent-encodes anything else
// in grpc-message, so the other symbols (control characters, bytes above 0x7e, whose codes are
// 19 to 30 bits long) are left out: decoding a string that uses one fails.
//
// The code is canonical: codes of one length are consecutive, in symbol order, and each length
// starts where the shorter ones ended (shifted left). So the symbols of each length, listed in
// order, define it.
const SYMBOLS_BY_LENGTH: [number, string][] = [
  [5, '012aceiost'],
  [6, ' %-./3456789=A_bdfghlmnpru'],
  [7, ':BCDEFGHIJKLMNOPQRSTUVWYjkqvwxyz'],
  [8, '&*,;XZ'],
  [10, '!"()?'],
  [11, "'+|"],
  [12, '#>'],
  [13, '\0$@[]~'],
  [14, '^}'],
  [15, '<`{'],
  [19, '\\'],
];

interface Code {
  bits: number;
  length: number;
}

const CODES = new Map<number, Code>();
/** Decoding: symbol by `length << 24 | bits` (bits < 2^19). */
const SYMBOL_BY_CODE = new Map<number, number>();
{
  let next = 0;
  let length = SYMBOLS_BY_LENGTH[0][0];
  for (const [len, symbols] of SYMBOLS_BY_LENGTH) {
    next <<= len - length;
    length = len;
    for (let i = 0; i < symbols.length; i++, next++) {
      const sym = symbols.charCodeAt(i);
      CODES.set(sym, { bits: next, length: len });
      SYMBOL_BY_CODE.set(len * 2 ** 24 + next, sym);
    }
  }
}

/** Huffman-encodes `text` (printable ASCII), padded with ones to a whole byte. */
export function huffmanEncode(text: string): Buffer {
  const out: number[] = [];
  let acc = 0;
  let accBits = 0;
  for (let i = 0; i < text.length; i++) {
    const code = CODES.get(text.charCodeAt(i));
    if (!code) throw new Error(`no Huffman code for ${JSON.stringify(text[i])}`);
    for (let b = code.length - 1; b >= 0; b--) {
      acc = (acc << 1) | ((code.bits >>> b) & 1);
      if (++accBits === 8) {
        out.push(acc);
        acc = accBits = 0;
      }
    }
  }
  if (accBits > 0) out.push((acc << (8 - accBits)) | ((1 << (8 - accBits)) - 1));
  return Buffer.from(out);
}

/** Decodes a Huffman-coded string; undefined if it uses a symbol left out here or is malformed. */
export function huffmanDecode(data: Buffer): string | undefined {
  let text = '';
  let bits = 0;
  let length = 0;
  for (let i = 0; i < data.length; i++) {
    for (let b = 7; b >= 0; b--) {
      bits = (bits << 1) | ((data[i] >>> b) & 1);
      length++;
      const sym = SYMBOL_BY_CODE.get(length * 2 ** 24 + bits);
      if (sym !== undefined) {
        text += String.fromCharCode(sym);
        bits = length = 0;
      } else if (length > 19) {
        return undefined;
      }
    }
  }
  // What is left must be padding: fewer than 8 bits, all ones (a prefix of the EOS code).
  return length < 8 && bits === (1 << length) - 1 ? text : undefined;
}
