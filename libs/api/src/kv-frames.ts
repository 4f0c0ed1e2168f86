/**
 * gRPC frames for the KV service's responses (Put, Range, DeleteRange, Txn), encoded by hand:
 * the bytes protobufjs writes for the same value, without its per-call copy of the value
 * (`fromObject`), its writer's list of pending operations and a second copy into the frame.
 *
 * Only the shapes the member produces are taken (numbers, decimal strings and 32-bit halves for
 * 64-bit integers, Buffers for bytes, booleans); anything else gives `undefined` and the caller
 * uses the generic serializer, which then encodes (or refuses) it as before.
 */

/** A frame's 5-byte prefix (no compression, the length) followed by the message. */
export type FrameEncoder = (value: unknown) => Buffer | undefined;

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
class Pass {
  pos = 0;
  constructor(
    readonly buf: Buffer | undefined,
    start: number,
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
    this.byte(tag);
    this.varint64(scratch.lo, scratch.hi);
    return true;
  }

  bool(tag: number, v: unknown): boolean {
    if (v == null) return true;
    if (typeof v !== 'boolean') return false;
    this.byte(tag);
    this.byte(v ? 1 : 0);
    return true;
  }

  bytes(tag: number, v: unknown): boolean {
    if (v == null) return true;
    if (!(v instanceof Uint8Array)) return false;
    this.byte(tag);
    this.varint(v.length);
    if (this.buf) this.buf.set(v, this.pos);
    this.pos += v.length;
    return true;
  }

  /** A nested message: its length (a sizing pass of its own), then its fields. */
  message(tag: number, v: unknown, fields: (p: Pass, v: Record<string, unknown>) => boolean): boolean {
    if (v == null) return true;
    if (typeof v !== 'object' || Array.isArray(v)) return false;
    const obj = v as Record<string, unknown>;
    const sizing = new Pass(undefined, 0);
    if (!fields(sizing, obj)) return false;
    this.byte(tag);
    this.varint(sizing.pos);
    if (!this.buf) {
      this.pos += sizing.pos;
      return true;
    }
    return fields(this, obj);
  }

  repeated(tag: number, v: unknown, fields: (p: Pass, v: Record<string, unknown>) => boolean): boolean {
    if (v == null || v === false || v === 0 || v === '') return true;
    if (!Array.isArray(v)) return false;
    for (const item of v) {
      // protobufjs refuses a null element; so does the generic serializer this falls back to.
      if (item == null || !this.message(tag, item, fields)) return false;
    }
    return true;
  }
}

// Field tags: (field number << 3) | wire type (0 varint, 2 length-delimited).
function header(p: Pass, h: Record<string, unknown>): boolean {
  return (
    p.int64(0x08, h.cluster_id) &&
    p.int64(0x10, h.member_id) &&
    p.int64(0x18, h.revision) &&
    p.int64(0x20, h.raft_term)
  );
}

function keyValue(p: Pass, kv: Record<string, unknown>): boolean {
  return (
    p.bytes(0x0a, kv.key) &&
    p.int64(0x10, kv.create_revision) &&
    p.int64(0x18, kv.mod_revision) &&
    p.int64(0x20, kv.version) &&
    p.bytes(0x2a, kv.value) &&
    p.int64(0x30, kv.lease)
  );
}

function putResponse(p: Pass, r: Record<string, unknown>): boolean {
  return p.message(0x0a, r.header, header) && p.message(0x12, r.prev_kv, keyValue);
}

function rangeResponse(p: Pass, r: Record<string, unknown>): boolean {
  return (
    p.message(0x0a, r.header, header) &&
    p.repeated(0x12, r.kvs, keyValue) &&
    p.bool(0x18, r.more) &&
    p.int64(0x20, r.count)
  );
}

function deleteRangeResponse(p: Pass, r: Record<string, unknown>): boolean {
  return (
    p.message(0x0a, r.header, header) && p.int64(0x10, r.deleted) && p.repeated(0x1a, r.prev_kvs, keyValue)
  );
}

function responseOp(p: Pass, op: Record<string, unknown>): boolean {
  return (
    p.message(0x0a, op.response_range, rangeResponse) &&
    p.message(0x12, op.response_put, putResponse) &&
    p.message(0x1a, op.response_delete_range, deleteRangeResponse) &&
    p.message(0x22, op.response_txn, txnResponse)
  );
}

function txnResponse(p: Pass, r: Record<string, unknown>): boolean {
  return (
    p.message(0x0a, r.header, header) &&
    p.bool(0x10, r.succeeded) &&
    p.repeated(0x1a, r.responses, responseOp)
  );
}

function frameEncoder(fields: (p: Pass, v: Record<string, unknown>) => boolean): FrameEncoder {
  return (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    const obj = value as Record<string, unknown>;
    const sizing = new Pass(undefined, 0);
    if (!fields(sizing, obj)) return undefined;
    const frame = Buffer.allocUnsafe(5 + sizing.pos);
    frame[0] = 0;
    frame.writeUInt32BE(sizing.pos, 1);
    const writing = new Pass(frame, 5);
    if (!fields(writing, obj) || writing.pos !== frame.length) return undefined;
    return frame;
  };
}

/** The KV service's response encoders, by method path. */
export const KV_RESPONSE_FRAMES: ReadonlyMap<string, FrameEncoder> = new Map([
  ['/etcdserverpb.KV/Put', frameEncoder(putResponse)],
  ['/etcdserverpb.KV/Range', frameEncoder(rangeResponse)],
  ['/etcdserverpb.KV/DeleteRange', frameEncoder(deleteRangeResponse)],
  ['/etcdserverpb.KV/Txn', frameEncoder(txnResponse)],
]);
