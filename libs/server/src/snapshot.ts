import { createHash } from 'node:crypto';
import { Engine } from '../../storage/src';
import { SnapshotResponse } from './etcd-types';

/**
 * Maintenance.Snapshot's stream: a consistent point-in-time backup of the member's whole RocksDB
 * keyspace (MVCC data, raft log, metadata), read through one RocksDB iterator.
 *
 * The file is Cairn's own format, not etcd's bbolt database, so `etcdctl snapshot status` and
 * `etcdctl snapshot restore` cannot read it (they fail: "invalid database"); `cairnctl snapshot
 * status|restore` do (see snapshot-restore.ts). `etcdctl snapshot save` works because it only
 * copies the stream. Layout, integers unsigned big endian:
 *
 *   magic    8 bytes  "CAIRNSNP"
 *   version  u32      1
 *   records  u32 key length, key bytes, u32 value length, value bytes; in key order
 *   end      u32      0xffffffff (a key length no record can have)
 *   padding  zero bytes up to a multiple of 512 bytes
 *   trailer  32 bytes sha256 of every byte before it
 *
 * The padding is there because etcdctl checks a saved file's size, as etcd's bbolt pages make
 * it: a multiple of 512 bytes plus the 32-byte sha256 (else "sha256 checksum not found").
 *
 * As etcd does, the data goes out in chunks of SNAPSHOT_CHUNK_BYTES whose remaining_bytes count
 * down to 0 on the last data chunk, then one more message carries the sha256 (remaining_bytes 0),
 * which etcdctl appends to the file. The total is not known before the scan ends, so
 * remaining_bytes counts down from an estimate (the engine's approximate size) and stays >= 1
 * until the last data chunk; etcd's clients only read the stream to its end.
 */
export const SNAPSHOT_MAGIC = Buffer.from('CAIRNSNP', 'ascii');
export const SNAPSHOT_VERSION = 1;
export const SNAPSHOT_END = 0xffffffff;
export const SNAPSHOT_CHUNK_BYTES = 32 * 1024;
export const SNAPSHOT_ALIGN = 512;
/** Entries read per iterator step (nextv): bounded work per event-loop turn. */
const ENTRIES_PER_STEP = 256;

export async function* snapshotStream(
  engine: Engine,
  chunkBytes = SNAPSHOT_CHUNK_BYTES,
): AsyncGenerator<SnapshotResponse> {
  const estimate = engine.approximateSize();
  const hash = createHash('sha256');
  let sent = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  // One full chunk held back: only once the scan has ended is it known to be the last one.
  let held: Buffer | undefined;

  const push = (b: Buffer) => {
    pending.push(b);
    pendingBytes += b.length;
  };
  const emit = (blob: Buffer, last: boolean): SnapshotResponse => {
    hash.update(blob);
    sent += blob.length;
    return { remaining_bytes: last ? '0' : String(Math.max(1, estimate - sent)), blob };
  };
  function* fullChunks(): Generator<SnapshotResponse> {
    if (pendingBytes < chunkBytes) return;
    const all = Buffer.concat(pending, pendingBytes);
    let at = 0;
    for (; all.length - at >= chunkBytes; at += chunkBytes) {
      if (held) yield emit(held, false);
      held = all.subarray(at, at + chunkBytes);
    }
    pending = at < all.length ? [all.subarray(at)] : [];
    pendingBytes = all.length - at;
  }

  const head = Buffer.alloc(12);
  SNAPSHOT_MAGIC.copy(head, 0);
  head.writeUInt32BE(SNAPSHOT_VERSION, 8);
  push(head);
  for await (const entries of engine.scan(undefined, undefined, ENTRIES_PER_STEP)) {
    for (const [key, value] of entries) {
      const kl = Buffer.alloc(4);
      kl.writeUInt32BE(key.length, 0);
      const vl = Buffer.alloc(4);
      vl.writeUInt32BE(value.length, 0);
      push(kl);
      push(key);
      push(vl);
      push(value);
    }
    yield* fullChunks();
  }
  const total = sent + (held?.length ?? 0) + pendingBytes + 4;
  const end = Buffer.alloc(4 + ((SNAPSHOT_ALIGN - (total % SNAPSHOT_ALIGN)) % SNAPSHOT_ALIGN));
  end.writeUInt32BE(SNAPSHOT_END, 0);
  push(end);
  yield* fullChunks();
  const rest = Buffer.concat(pending, pendingBytes);
  if (held) yield emit(held, rest.length === 0);
  if (rest.length > 0) yield emit(rest, true);
  yield { remaining_bytes: '0', blob: hash.digest() };
}

/**
 * Reads a snapshot file back (cairnctl, tests): verifies the sha256 trailer (as etcd's restore
 * does, with its error texts) and returns the records. `skipHashCheck` accepts a file without a
 * trailer, or with a wrong one, as etcd's --skip-hash-check does; the layout is checked anyway.
 */
export function parseSnapshot(file: Buffer, opts: { skipHashCheck?: boolean } = {}): [Buffer, Buffer][] {
  // etcd's test for a trailer: the data is whole 512-byte pages, then 32 bytes.
  const hasHash = file.length % SNAPSHOT_ALIGN === 32;
  if (!hasHash && !opts.skipHashCheck) throw new Error('snapshot missing hash but --skip-hash-check=false');
  const body = hasHash ? file.subarray(0, file.length - 32) : file;
  if (hasHash && !opts.skipHashCheck) {
    const sum = createHash('sha256').update(body).digest();
    const expected = file.subarray(file.length - 32);
    // Go's fmt of a byte slice, as etcd prints the two sums.
    const goBytes = (b: Buffer) => `[${[...b].join(' ')}]`;
    if (!sum.equals(expected)) throw new Error(`expected sha256 ${goBytes(expected)}, got ${goBytes(sum)}`);
  }
  return parseRecords(body);
}

function parseRecords(body: Buffer): [Buffer, Buffer][] {
  if (body.length < 16 || !body.subarray(0, 8).equals(SNAPSHOT_MAGIC)) {
    throw new Error('not a Cairn snapshot: bad magic');
  }
  const version = body.readUInt32BE(8);
  if (version !== SNAPSHOT_VERSION) throw new Error(`unknown Cairn snapshot version ${version}`);
  const corrupt = (at: number) => new Error(`corrupt snapshot: record at byte ${at} runs past the end`);
  const out: [Buffer, Buffer][] = [];
  let at = 12;
  for (;;) {
    if (at + 4 > body.length) throw corrupt(at);
    const kl = body.readUInt32BE(at);
    if (kl === SNAPSHOT_END) break;
    if (at + 4 + kl + 4 > body.length) throw corrupt(at);
    const key = body.subarray(at + 4, at + 4 + kl);
    const vl = body.readUInt32BE(at + 4 + kl);
    const from = at + 8 + kl;
    if (from + vl > body.length) throw corrupt(at);
    out.push([key, body.subarray(from, from + vl)]);
    at = from + vl;
  }
  if (body.subarray(at + 4).some((b) => b !== 0)) {
    throw new Error('corrupt snapshot: non-zero bytes after the end marker');
  }
  return out;
}
