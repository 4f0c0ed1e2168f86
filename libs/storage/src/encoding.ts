import { KeyValue } from './types';

/**
 * On-disk layout of the MVCC store, one RocksDB keyspace split by a leading tag byte:
 *   'k' main(8, BE) sub(8, BE)  -> a key revision record (see encodeRecord)
 *   'm' name                    -> store metadata (current revision, compaction, applied index)
 * Big-endian revisions make RocksDB's byte order the revision order.
 */
export const REV_PREFIX = 0x6b; // 'k'
export const META_PREFIX = 0x6d; // 'm'

export function revKey(main: number, sub: number): Buffer {
  const buf = Buffer.allocUnsafe(17);
  // Each 8-byte big-endian half as two 32-bit words (ToUint32 keeps the low word).
  buf[0] = REV_PREFIX;
  buf.writeUInt32BE(Math.floor(main / 0x100000000), 1);
  buf.writeUInt32BE(main >>> 0, 5);
  buf.writeUInt32BE(Math.floor(sub / 0x100000000), 9);
  buf.writeUInt32BE(sub >>> 0, 13);
  return buf;
}

export function parseRevKey(buf: Buffer): { main: number; sub: number } {
  return { main: buf.readUIntBE(3, 6), sub: buf.readUIntBE(11, 6) };
}

/** The first key of the revision keyspace at or after main revision `main`. */
export function revKeyLowerBound(main: number): Buffer {
  return revKey(main, 0);
}

export const REV_KEYSPACE_END = Buffer.from([REV_PREFIX + 1]);

export function metaKey(name: string): Buffer {
  return Buffer.concat([Buffer.from([META_PREFIX]), Buffer.from(name, 'utf8')]);
}

const HEADER = 1 + 8 + 8 + 8 + 4;
const TOMBSTONE = 1;

/** A stored revision of a key: its KeyValue (mod revision comes from the record's RocksDB key) or a tombstone. */
export interface StoredRecord {
  tombstone: boolean;
  key: Buffer;
  createRevision: number;
  version: number;
  lease: bigint;
  value: Buffer;
}

const TWO_32 = 2 ** 32;

/**
 * Writes a non-negative 64-bit value below 2^53 (indexes, terms, lease ids: all of them in
 * practice) as two 32-bit halves, without the BigInt arithmetic, and its allocations, of Node's
 * 64-bit writers; false for any other value.
 */
function writeSafeInteger(buf: Buffer, v: bigint, offset: number): boolean {
  const n = Number(v);
  if (n < 0 || n > Number.MAX_SAFE_INTEGER) return false;
  buf.writeUInt32BE(Math.floor(n / TWO_32), offset);
  buf.writeUInt32BE(n >>> 0, offset + 4);
  return true;
}

/** buf.writeBigInt64BE, cheaper for the common values. */
export function writeInt64BE(buf: Buffer, v: bigint, offset: number): void {
  if (!writeSafeInteger(buf, v, offset)) buf.writeBigInt64BE(v, offset);
}

/** buf.writeBigUInt64BE, cheaper for the common values. */
export function writeUint64BE(buf: Buffer, v: bigint, offset: number): void {
  if (!writeSafeInteger(buf, v, offset)) buf.writeBigUInt64BE(v, offset);
}

export function encodeRecord(r: StoredRecord): Buffer {
  const buf = Buffer.allocUnsafe(HEADER + r.key.length + r.value.length);
  buf[0] = r.tombstone ? TOMBSTONE : 0;
  buf.writeDoubleBE(r.createRevision, 1);
  buf.writeDoubleBE(r.version, 9);
  writeInt64BE(buf, r.lease, 17);
  buf.writeUInt32BE(r.key.length, 25);
  r.key.copy(buf, HEADER);
  r.value.copy(buf, HEADER + r.key.length);
  return buf;
}

export function decodeRecord(buf: Buffer): StoredRecord {
  const keyLen = buf.readUInt32BE(25);
  return {
    tombstone: (buf[0] & TOMBSTONE) !== 0,
    createRevision: buf.readDoubleBE(1),
    version: buf.readDoubleBE(9),
    lease: buf.readBigInt64BE(17),
    key: buf.subarray(HEADER, HEADER + keyLen),
    value: buf.subarray(HEADER + keyLen),
  };
}

export function recordToKeyValue(r: StoredRecord, modRevision: number): KeyValue {
  return {
    key: r.key,
    createRevision: r.createRevision,
    modRevision,
    version: r.version,
    value: r.value,
    lease: r.lease,
  };
}

export function encodeNumber(n: number): Buffer {
  const buf = Buffer.allocUnsafe(8);
  buf.writeDoubleBE(n);
  return buf;
}

export function decodeNumber(buf: Buffer | undefined, fallback = 0): number {
  return buf && buf.length === 8 ? buf.readDoubleBE(0) : fallback;
}
