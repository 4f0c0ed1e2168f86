/**
 * A protobuf writer for the few messages Cairn encodes by hand on every request (see
 * kv-frames.ts in libs/api and internal-request.ts): the bytes protobufjs writes for the same
 * value, without its per-call copy of the value (`fromObject`), a Long per 64-bit field and its
 * writer's list of pending operations.
 *
 * It takes only plain shapes: numbers (non-negative safe integers), decimal strings and 32-bit
 * halves for 64-bit integers, Uint8Arrays for bytes, strings, booleans. Any other shape makes
 * the encoding give up (`undefined`), and the caller uses protobufjs, which then encodes (or
 * refuses) the value as it always did.
 */

/** A message's fields, written (or sized) in field-number order as protobufjs writes them. */
export type Fields = (p: Pass, v: Record<string, unknown>) => boolean;

const TWO_32 = 2 ** 32;
const INT64_MIN = -(1n << 63n);
const UINT64_LIMIT = 1n << 64n;

/** The last 64-bit value read by `halves`: the two 32-bit halves of its two's complement. */
const scratch = { lo: 0, hi: 0 };

/** Reads a 64-bit field's value into `scratch`; false for a shape this encoder does not take. */
function halves(v: unknown): boolean {
  if (typeof v === 'number') {
    // A negative number reads differently in signed and unsigned fields (protobufjs makes it 0
    // in a uint64); the member never sends one.
    if (!Number.isSafeInteger(v) || v < 0) return false;
    scratch.lo = v >>> 0;
    scratch.hi = Math.floor(v / TWO_32) >>> 0;
    return true;
  }
  if (typeof v === 'string') {
    if (!/^-?\d{1,20}$/.test(v)) return false;
    const b = BigInt(v);
    if (b < INT64_MIN || b >= UINT64_LIMIT) return false;
    const u = BigInt.asUintN(64, b);
    scratch.lo = Number(u & 0xffffffffn);
    scratch.hi = Number(u >> 32n);
    return true;
  }
  if (typeof v === 'object' && v !== null) {
    const { low, high } = v as { low?: unknown; high?: unknown };
    if (typeof low !== 'number' || typeof high !== 'number') return false;
    scratch.lo = low >>> 0;
    scratch.hi = high >>> 0;
    return true;
  }
  return false;
}

function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

function varint64Size(lo: number, hi: number): number {
  if (hi === 0) return varintSize(lo);
  // 33 to 64 significant bits at 7 per byte: 5 bytes up to 35 bits, one more per 7 bits of hi.
  const top = hi < 0x8 ? 0 : hi < 0x400 ? 1 : hi < 0x20000 ? 2 : hi < 0x1000000 ? 3 : hi < 0x80000000 ? 4 : 5;
  return 5 + top;
}

/**
 * One pass over a message: `sizing` only adds up lengths, otherwise bytes are written at `pos`.
 * Every field method returns false when the value has a shape this encoder does not take.
 */
export class Pass {
  pos = 0;
  /**
   * @param omitDefaults leave out zero, false and empty values (proto3 as protobufjs 8 writes
   * it); protobufjs 7, which @grpc/proto-loader uses, writes every field that is set.
   */
  constructor(
    readonly buf: Buffer | undefined,
    start: number,
    readonly omitDefaults = false,
  ) {
    this.pos = start;
  }

  private byte(b: number): void {
    if (this.buf) this.buf[this.pos] = b;
    this.pos++;
  }

  varint(n: number): void {
    if (!this.buf) {
      this.pos += varintSize(n);
      return;
    }
    while (n > 0x7f) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    this.buf[this.pos++] = n;
  }

  private varint64(lo: number, hi: number): void {
    if (!this.buf) {
      this.pos += varint64Size(lo, hi);
      return;
    }
    while (hi !== 0 || lo > 0x7f) {
      this.buf[this.pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    this.buf[this.pos++] = lo;
  }

  /** An int64 or uint64 field; absent (null or undefined) is not written. */
  int64(tag: number, v: unknown): boolean {
    if (v == null) return true;
    if (!halves(v)) return false;
    if (this.omitDefaults && scratch.lo === 0 && scratch.hi === 0) return true;
    this.byte(tag);
    this.varint64(scratch.lo, scratch.hi);
    return true;
  }

  bool(tag: number, v: unknown): boolean {
    if (v == null) return true;
    if (typeof v !== 'boolean') return false;
    if (this.omitDefaults && !v) return true;
    this.byte(tag);
    this.byte(v ? 1 : 0);
    return true;
  }

  bytes(tag: number, v: unknown): boolean {
    if (v == null) return true;
    if (!(v instanceof Uint8Array)) return false;
    if (this.omitDefaults && v.length === 0) return true;
    this.byte(tag);
    this.varint(v.length);
    if (this.buf) this.buf.set(v, this.pos);
    this.pos += v.length;
    return true;
  }

  /** A string field (UTF-8). */
  string(tag: number, v: unknown): boolean {
    if (v == null) return true;
    if (typeof v !== 'string') return false;
    if (this.omitDefaults && v.length === 0) return true;
    const length = Buffer.byteLength(v);
    this.byte(tag);
    this.varint(length);
    if (this.buf) this.buf.write(v, this.pos, length, 'utf8');
    this.pos += length;
    return true;
  }

  /** A nested message: its length (a sizing pass of its own), then its fields. */
  message(tag: number, v: unknown, fields: Fields): boolean {
    if (v == null) return true;
    if (typeof v !== 'object' || Array.isArray(v)) return false;
    const obj = v as Record<string, unknown>;
    const sizing = new Pass(undefined, 0, this.omitDefaults);
    if (!fields(sizing, obj)) return false;
    this.byte(tag);
    this.varint(sizing.pos);
    if (!this.buf) {
      this.pos += sizing.pos;
      return true;
    }
    return fields(this, obj);
  }

  repeated(tag: number, v: unknown, fields: Fields): boolean {
    if (v == null || v === false || v === 0 || v === '') return true;
    if (!Array.isArray(v)) return false;
    for (const item of v) {
      // protobufjs refuses a null element; so does the generic serializer this falls back to.
      if (item == null || !this.message(tag, item, fields)) return false;
    }
    return true;
  }
}

/**
 * Encodes `value` with `fields` after `prefix` reserved bytes (left for the caller to fill), or
 * gives undefined for a shape the writer does not take.
 */
export function encodeMessage(
  fields: Fields,
  value: unknown,
  { prefix = 0, omitDefaults = false }: { prefix?: number; omitDefaults?: boolean } = {},
): Buffer | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const obj = value as Record<string, unknown>;
  const sizing = new Pass(undefined, 0, omitDefaults);
  if (!fields(sizing, obj)) return undefined;
  const out = Buffer.allocUnsafe(prefix + sizing.pos);
  const writing = new Pass(out, prefix, omitDefaults);
  if (!fields(writing, obj) || writing.pos !== out.length) return undefined;
  return out;
}
