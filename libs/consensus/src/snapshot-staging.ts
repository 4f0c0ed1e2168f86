import {
  SnapshotMetadata,
  decodeHardState,
  decodeSnapshotMetadata,
  encodeHardState,
  encodeSnapshotMetadata,
} from '../../raft/src';
import { Crc32c, Engine, EngineOp, metaKey } from '../../storage/src';
import { ENTRY_PREFIX, HARD_STATE_KEY, SNAPSHOT_KEY } from './raft-log-store';

/**
 * Where a snapshot received from the leader waits until Raft installs it: 's' + the image's key,
 * in the member's one RocksDB, next to (never over) the live state machine.
 */
export const STAGING_PREFIX = 0x73; // 's'
/** Metadata of a complete, verified staged image (written, synced, once its last chunk checked out). */
const STAGED_KEY = metaKey('raft-snapshot-staged');
/** Set (synced) before the live state machine is touched; cleared by the write that ends the install. */
const INSTALLING_KEY = metaKey('raft-snapshot-installing');
/** The engine's sync marker (see rocks.ts). */
const SYNC_MARKER = Buffer.from([0x6d, 0x00]);
/** Records copied from staging per write: bounded work per event-loop turn. */
const COPY_CHUNK = 512;

/** A staged image is being installed: a new transfer must wait. */
export class SnapshotBusyError extends Error {
  constructor() {
    super('a snapshot is being installed');
    this.name = 'SnapshotBusyError';
  }
}

/** The CRC-32C of an image: every record's key and value, each preceded by its length (u32 BE). */
export class ImageChecksum {
  private readonly crc = new Crc32c();
  private readonly len = Buffer.allocUnsafe(4);
  records = 0;

  add(key: Uint8Array, value: Uint8Array): void {
    this.len.writeUInt32BE(key.length, 0);
    this.crc.update(this.len).update(key);
    this.len.writeUInt32BE(value.length, 0);
    this.crc.update(this.len).update(value);
    this.records++;
  }

  digest(): number {
    return this.crc.digest();
  }
}

/**
 * The state-machine image is every key of the member's RocksDB except the Raft log and its own
 * records (entries, hard state, snapshot metadata, staging) and the member-local keys the server
 * names (its identity, its own attributes). New state-machine prefixes are in the image by default.
 */
export class ImageKeys {
  private readonly localKeys: Buffer[];

  constructor(memberLocal: Buffer[]) {
    this.localKeys = [
      HARD_STATE_KEY,
      SNAPSHOT_KEY,
      STAGED_KEY,
      INSTALLING_KEY,
      SYNC_MARKER,
      ...memberLocal,
    ].sort(Buffer.compare);
  }

  includes(key: Buffer): boolean {
    if (key.length > 0 && (key[0] === ENTRY_PREFIX || key[0] === STAGING_PREFIX)) return false;
    return !this.localKeys.some((k) => k.equals(key));
  }

  /** The [gte, lt) ranges that hold exactly the image's keys (the complement of what stays). */
  ranges(): [Buffer, Buffer][] {
    const kept: [Buffer, Buffer][] = [
      ...this.localKeys.map((k): [Buffer, Buffer] => [k, Buffer.concat([k, Buffer.from([0])])]),
      [Buffer.from([STAGING_PREFIX]), Buffer.from([STAGING_PREFIX + 1])] as [Buffer, Buffer],
      [Buffer.from([ENTRY_PREFIX]), Buffer.from([ENTRY_PREFIX + 1])] as [Buffer, Buffer],
    ].sort((a, b) => Buffer.compare(a[0], b[0]));
    const out: [Buffer, Buffer][] = [];
    let from: Buffer = Buffer.alloc(0);
    for (const [gte, lt] of kept) {
      if (Buffer.compare(from, gte) < 0) out.push([from, gte]);
      if (Buffer.compare(from, lt) < 0) from = lt;
    }
    out.push([from, Buffer.alloc(64, 0xff)]);
    return out;
  }
}

/** One transfer being received into staging. */
export interface StagingWriter {
  /** Stages a chunk of records (in key order, as the image streams them). */
  write(records: [Uint8Array, Uint8Array][]): void;
  /** Checks the sender's checksum and record count; on success the image is staged durably. */
  finish(metadata: SnapshotMetadata, crc: number, records: number): Promise<void>;
  /** Drops what was staged (a failed or interrupted transfer): the live state is untouched. */
  abort(): void;
}

/**
 * Receives snapshots into a staging area and installs a staged one over the live state machine,
 * crash-safely:
 *
 * - Receiving writes only under STAGING_PREFIX; a transfer that fails, is refused (checksum,
 *   count) or is cut by a crash changes nothing else, and `recover` drops leftovers at open.
 * - Installing first makes INSTALLING_KEY durable (the staged image is durable already). From
 *   then on the live state machine is rebuilt from staging: clear every image range, clear the
 *   Raft log, copy staging into place, then one write records the snapshot as the Raft log's
 *   start (metadata, hard state commit and term at least the snapshot's) and deletes
 *   INSTALLING_KEY, and the engine syncs. A kill -9 anywhere in between leaves INSTALLING_KEY
 *   set and the staging intact (it is dropped only after that last write), so `recover` at open
 *   runs the same idempotent steps again before anything reads the store. The member never
 *   starts on a half-replaced state machine.
 */
export class SnapshotStaging {
  private installing = false;
  private receiving: object | undefined;
  /** A staged image Raft took: kept (no new transfer begins) until it is installed. */
  private claimed: SnapshotMetadata | undefined;

  constructor(
    private readonly engine: Engine,
    readonly keys: ImageKeys,
  ) {}

  /** At open, before anything reads the state machine: finishes an interrupted install, drops leftovers. */
  static async recover(engine: Engine, keys: ImageKeys): Promise<SnapshotMetadata | undefined> {
    const staging = new SnapshotStaging(engine, keys);
    const raw = engine.get(INSTALLING_KEY);
    if (raw) {
      const metadata = decodeSnapshotMetadata(raw);
      await staging.replace(metadata);
      return metadata;
    }
    staging.clearStaging();
    return undefined;
  }

  /** Starts receiving a new image (any earlier unfinished or uninstalled one is dropped). */
  begin(): StagingWriter {
    if (this.installing || this.claimed) throw new SnapshotBusyError();
    const token = {};
    this.receiving = token;
    this.clearStaging();
    const sum = new ImageChecksum();
    const own = () => this.receiving === token && !this.installing;
    return {
      write: (records) => {
        if (!own()) throw new SnapshotBusyError();
        const ops: EngineOp[] = [];
        for (const [k, v] of records) {
          const key = Buffer.from(k);
          if (!this.keys.includes(key))
            throw new Error(`snapshot record outside the image: ${key.toString('hex')}`);
          sum.add(k, v);
          ops.push({ type: 'put', key: stagingKey(key), value: Buffer.from(v) });
        }
        this.engine.write(ops);
      },
      finish: async (metadata, crc, records) => {
        if (!own()) throw new SnapshotBusyError();
        if (sum.records !== records || sum.digest() !== crc) {
          this.abortIfOwn(token);
          throw new Error(
            `snapshot checksum mismatch: received ${sum.records} records crc ${sum.digest()}, ` +
              `sender says ${records} records crc ${crc}`,
          );
        }
        await this.engine.writeSynced([
          { type: 'put', key: STAGED_KEY, value: Buffer.from(encodeSnapshotMetadata(metadata)) },
        ]);
      },
      abort: () => this.abortIfOwn(token),
    };
  }

  /** Raft took the staged image of `metadata`: it is kept for `install`. */
  claim(metadata: SnapshotMetadata): void {
    this.claimed = metadata;
  }

  /** The staged image's metadata, if one is complete. */
  staged(): SnapshotMetadata | undefined {
    const raw = this.engine.get(STAGED_KEY);
    return raw ? decodeSnapshotMetadata(raw) : undefined;
  }

  /**
   * Replaces the live state machine with the staged image Raft is installing (index and term
   * must match), durably. The caller has quiesced the state machine's background work and
   * reloads its in-memory structures afterwards.
   */
  async install(metadata: SnapshotMetadata): Promise<void> {
    const staged = this.staged();
    if (!staged || staged.index !== metadata.index || staged.term !== metadata.term) {
      throw new Error(
        `raft installs snapshot ${metadata.index}/${metadata.term} but the staged image is ` +
          (staged ? `${staged.index}/${staged.term}` : 'missing'),
      );
    }
    this.installing = true;
    try {
      await this.engine.writeSynced([
        { type: 'put', key: INSTALLING_KEY, value: Buffer.from(encodeSnapshotMetadata(metadata)) },
      ]);
      await this.replace(metadata);
    } finally {
      this.installing = false;
      this.claimed = undefined;
    }
  }

  private abortIfOwn(token: object): void {
    if (this.receiving !== token || this.installing) return;
    this.receiving = undefined;
    this.clearStaging();
  }

  private clearStaging(): void {
    this.engine.write([{ type: 'del', key: STAGED_KEY }]);
    this.engine.deleteRange(Buffer.from([STAGING_PREFIX]), Buffer.from([STAGING_PREFIX + 1]));
  }

  /** The idempotent steps of an install (see the class comment); INSTALLING_KEY is durable. */
  private async replace(metadata: SnapshotMetadata): Promise<void> {
    for (const [gte, lt] of this.keys.ranges()) this.engine.deleteRange(gte, lt);
    this.engine.deleteRange(Buffer.from([ENTRY_PREFIX]), Buffer.from([ENTRY_PREFIX + 1]));
    for await (const chunk of this.engine.scan(
      Buffer.from([STAGING_PREFIX]),
      Buffer.from([STAGING_PREFIX + 1]),
      COPY_CHUNK,
    )) {
      this.engine.write(chunk.map(([k, v]) => ({ type: 'put', key: k.subarray(1), value: v })));
    }
    const hsRaw = this.engine.get(HARD_STATE_KEY);
    const hs = hsRaw ? decodeHardState(hsRaw) : { term: 0n, vote: 0n, commit: 0n };
    const hardState = {
      term: hs.term > metadata.term ? hs.term : metadata.term,
      vote: hs.term >= metadata.term ? hs.vote : 0n,
      commit: hs.commit > metadata.index ? hs.commit : metadata.index,
    };
    await this.engine.writeSynced([
      { type: 'put', key: SNAPSHOT_KEY, value: Buffer.from(encodeSnapshotMetadata(metadata)) },
      { type: 'put', key: HARD_STATE_KEY, value: Buffer.from(encodeHardState(hardState)) },
      { type: 'del', key: INSTALLING_KEY },
      { type: 'del', key: STAGED_KEY },
    ]);
    // Leftover staging records without STAGED_KEY are dropped here or by the next recover/begin.
    this.engine.deleteRange(Buffer.from([STAGING_PREFIX]), Buffer.from([STAGING_PREFIX + 1]));
  }
}

function stagingKey(key: Buffer): Buffer {
  const out = Buffer.allocUnsafe(key.length + 1);
  out[0] = STAGING_PREFIX;
  key.copy(out, 1);
  return out;
}
