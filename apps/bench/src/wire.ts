// A minimal protobuf wire reader: visits a message's top-level fields (varints as numbers,
// length-delimited fields as sub-buffers), enough to pick a few fields out of a response.

export function frameFields(buf: Buffer, visit: (field: number, value: number | Buffer) => void): void {
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    let mul = 1;
    for (;;) {
      const byte = buf[pos++];
      result += (byte & 0x7f) * mul;
      if (byte < 0x80) return result;
      mul *= 128;
    }
  };
  while (pos < buf.length) {
    const tag = varint();
    const field = Math.floor(tag / 8);
    switch (tag & 7) {
      case 0:
        visit(field, varint());
        break;
      case 1:
        pos += 8;
        break;
      case 2: {
        const len = varint();
        visit(field, buf.subarray(pos, pos + len));
        pos += len;
        break;
      }
      case 5:
        pos += 4;
        break;
      default:
        throw new Error(`unsupported wire type ${tag & 7}`);
    }
  }
}
