// The Raft Message and Entry of proto/cairn/raft.proto on the wire, written and read by hand:
// the same protobuf encoding protobufjs produces and accepts, without building a Long object per
// 64-bit field. Every message between members goes through here, so it is worth the code; the
// rarely sent snapshot inside a message is left to the caller's (protobufjs) codec.
import { EMPTY_BYTES, Entry, EntryType, Message, MessageType, Snapshot, makeMessage } from './types';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MAX_U64 = (1n << 64n) - 1n;

// Field tags: (field number << 3) | wire type (0 varint, 2 length-delimited).
const TAG = {
  type: 0x08,
  to: 0x10,
  from: 0x18,
  term: 0x20,
  logTerm: 0x28,
  index: 0x30,
  entries: 0x3a,
  commit: 0x40,
  snapshot: 0x4a,
  reject: 0x50,
  rejectHint: 0x58,
  context: 0x62,
} as const;
const ENTRY_TAG = { term: 0x08, index: 0x10, type: 0x18, data: 0x22 } as const;

/** uint64 as protobuf carries it: negative or oversized values wrap modulo 2^64. */
const u64 = (v: bigint): bigint => (v < 0n || v > MAX_U64 ? BigInt.asUintN(64, v) : v);

function sizeOfNumber(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function sizeOf64(v: bigint): number {
  v = u64(v);
  if (v <= MAX_SAFE) return sizeOfNumber(Number(v));
  // 54 to 64 significant bits, seven per byte.
  const hi = Number(v >> 32n);
  return Math.ceil((64 - Math.clz32(hi)) / 7);
}

/** Bytes of a uint64 field with its tag, 0 for the default (proto3 leaves zeros out). */
const field64 = (v: bigint): number => (v === 0n ? 0 : 1 + sizeOf64(v));
/** The same for an enum or bool field. */
const fieldNumber = (n: number): number => (n === 0 ? 0 : 1 + sizeOfNumber(n));
/** A length-delimited field with its tag, written even when empty. */
const lengthDelimited = (len: number): number => 1 + sizeOfNumber(len) + len;
const fieldBytes = (b: Uint8Array): number => (b.length === 0 ? 0 : lengthDelimited(b.length));

function entryBodySize(e: Entry): number {
  return field64(e.term) + field64(e.index) + fieldNumber(e.type) + fieldBytes(e.data);
}

class Writer {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  number(n: number): void {
    const buf = this.buf;
    while (n >= 128) {
      buf[this.pos++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    buf[this.pos++] = n;
  }

  u64(v: bigint): void {
    v = u64(v);
    if (v <= MAX_SAFE) return this.number(Number(v));
    // Above 2^53 (member ids are random 64-bit numbers): as two 32-bit words, not in bigint steps.
    const buf = this.buf;
    let lo = Number(v & 0xffffffffn);
    let hi = Number(v >> 32n);
    while (hi !== 0) {
      buf[this.pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    while (lo > 0x7f) {
      buf[this.pos++] = (lo & 0x7f) | 0x80;
      lo >>>= 7;
    }
    buf[this.pos++] = lo;
  }

  field64(tag: number, v: bigint): void {
    if (v === 0n) return;
    this.buf[this.pos++] = tag;
    this.u64(v);
  }

  fieldNumber(tag: number, n: number): void {
    if (n === 0) return;
    this.buf[this.pos++] = tag;
    this.number(n);
  }

  lengthDelimited(tag: number, b: Uint8Array): void {
    this.buf[this.pos++] = tag;
    this.number(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  bytes(tag: number, b: Uint8Array): void {
    if (b.length > 0) this.lengthDelimited(tag, b);
  }
}

/** Encodes a message; `encodeSnapshot` encodes its snapshot, if it has one. */
export function writeMessage(m: Message, encodeSnapshot: (s: Snapshot) => Uint8Array): Uint8Array {
  const snapshot = m.snapshot ? encodeSnapshot(m.snapshot) : undefined;
  const entrySizes = new Array<number>(m.entries.length);
  let size =
    fieldNumber(m.type) +
    field64(m.to) +
    field64(m.from) +
    field64(m.term) +
    field64(m.logTerm) +
    field64(m.index) +
    field64(m.commit) +
    fieldNumber(m.reject ? 1 : 0) +
    field64(m.rejectHint) +
    fieldBytes(m.context) +
    (snapshot ? lengthDelimited(snapshot.length) : 0);
  for (let i = 0; i < m.entries.length; i++) {
    entrySizes[i] = entryBodySize(m.entries[i]);
    size += lengthDelimited(entrySizes[i]);
  }
  const w = new Writer(Buffer.allocUnsafe(size));
  w.fieldNumber(TAG.type, m.type);
  w.field64(TAG.to, m.to);
  w.field64(TAG.from, m.from);
  w.field64(TAG.term, m.term);
  w.field64(TAG.logTerm, m.logTerm);
  w.field64(TAG.index, m.index);
  for (let i = 0; i < m.entries.length; i++) {
    const e = m.entries[i];
    w.buf[w.pos++] = TAG.entries;
    w.number(entrySizes[i]);
    w.field64(ENTRY_TAG.term, e.term);
    w.field64(ENTRY_TAG.index, e.index);
    w.fieldNumber(ENTRY_TAG.type, e.type);
    w.bytes(ENTRY_TAG.data, e.data);
  }
  w.field64(TAG.commit, m.commit);
  if (snapshot) w.lengthDelimited(TAG.snapshot, snapshot);
  w.fieldNumber(TAG.reject, m.reject ? 1 : 0);
  w.field64(TAG.rejectHint, m.rejectHint);
  w.bytes(TAG.context, m.context);
  if (w.pos !== size) throw new Error(`raft message encoder wrote ${w.pos} bytes, planned ${size}`);
  return w.buf;
}

class Reader {
  pos = 0;
  /** Where the message being read ends (an entry's end while reading an entry). */
  end: number;
  constructor(readonly buf: Uint8Array) {
    this.end = buf.length;
  }

  private byte(): number {
    if (this.pos >= this.end) throw new Error('raft message is truncated');
    return this.buf[this.pos++];
  }

  /** A varint read as a double (tags, lengths, enums, bools: exact for all they can hold). */
  number(): number {
    let n = 0;
    for (let i = 0, scale = 1; i < 10; i++, scale *= 128) {
      const b = this.byte();
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
    }
    throw new Error('raft message has a varint longer than 10 bytes');
  }

  /** A uint64 varint, gathered as two 32-bit words (bigint arithmetic only at the end). */
  u64(): bigint {
    let b = this.byte();
    let lo = b & 0x7f;
    for (let shift = 7; shift < 28; shift += 7) {
      if (b < 0x80) return BigInt(lo);
      b = this.byte();
      lo |= (b & 0x7f) << shift;
    }
    if (b < 0x80) return BigInt(lo);
    b = this.byte();
    lo = (lo | ((b & 0x7f) << 28)) >>> 0;
    let hi = (b & 0x7f) >> 4;
    for (let shift = 3; b >= 0x80; shift += 7) {
      if (shift > 31) throw new Error('raft message has a varint longer than 10 bytes');
      b = this.byte();
      hi = (hi | ((b & 0x7f) << shift)) >>> 0;
    }
    // Below 2^53 the value is exact as a double: one conversion.
    return hi < 0x200000 ? BigInt(hi * 0x100000000 + lo) : (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** A length-delimited field's extent; the reader moves past it. */
  span(): [number, number] {
    const len = this.number();
    const start = this.pos;
    if (start + len > this.end) throw new Error('raft message is truncated');
    this.pos = start + len;
    return [start, start + len];
  }

  bytes(): Uint8Array {
    const [start, end] = this.span();
    return start === end ? EMPTY_BYTES : this.buf.subarray(start, end);
  }

  /** Skips a field this reader does not know (or that came with another wire type). */
  skip(wireType: number): void {
    if (wireType === 0) this.u64();
    else if (wireType === 2) this.span();
    else if (wireType === 1 || wireType === 5) {
      this.pos += wireType === 1 ? 8 : 4;
      if (this.pos > this.end) throw new Error('raft message is truncated');
    } else throw new Error(`raft message has a field of unknown wire type ${wireType}`);
  }
}

/** Reads the entry in [r.pos, end), leaving the reader at `end`. */
function readEntry(r: Reader, end: number): Entry {
  const e: Entry = { term: 0n, index: 0n, type: EntryType.Normal, data: EMPTY_BYTES };
  const outer = r.end;
  r.end = end;
  while (r.pos < end) {
    const tag = r.number();
    if (tag === ENTRY_TAG.term) e.term = r.u64();
    else if (tag === ENTRY_TAG.index) e.index = r.u64();
    else if (tag === ENTRY_TAG.type) e.type = r.number() as EntryType;
    else if (tag === ENTRY_TAG.data) e.data = r.bytes();
    else r.skip(tag & 7);
  }
  r.end = outer;
  return e;
}

/** Decodes a message; `decodeSnapshot` decodes its snapshot, if it has one. Byte fields are views of `buf`. */
export function readMessage(buf: Uint8Array, decodeSnapshot: (b: Uint8Array) => Snapshot): Message {
  const m = makeMessage({ type: MessageType.Hup });
  const r = new Reader(buf);
  while (r.pos < r.end) {
    const tag = r.number();
    switch (tag) {
      case TAG.type:
        m.type = r.number() as MessageType;
        break;
      case TAG.to:
        m.to = r.u64();
        break;
      case TAG.from:
        m.from = r.u64();
        break;
      case TAG.term:
        m.term = r.u64();
        break;
      case TAG.logTerm:
        m.logTerm = r.u64();
        break;
      case TAG.index:
        m.index = r.u64();
        break;
      case TAG.entries: {
        const len = r.number();
        if (r.pos + len > r.end) throw new Error('raft message is truncated');
        m.entries.push(readEntry(r, r.pos + len));
        break;
      }
      case TAG.commit:
        m.commit = r.u64();
        break;
      case TAG.snapshot: {
        const [start, end] = r.span();
        m.snapshot = decodeSnapshot(buf.subarray(start, end));
        break;
      }
      case TAG.reject:
        m.reject = r.number() !== 0;
        break;
      case TAG.rejectHint:
        m.rejectHint = r.u64();
        break;
      case TAG.context:
        m.context = r.bytes();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return m;
}
