import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CONF_STATE_KEY, ImageKeys } from '../../consensus/src';
import { Crc32c, Engine, EngineOp, REV_PREFIX, parseRevKey } from '../../storage/src';
import { bootstrap } from './bootstrap';
import { Identity, MEMBER_LOCAL_KEYS } from './identity';
import { parseSnapshot } from './snapshot';

export interface RestoreOptions {
  name: string;
  dataDir: string;
  /** Member name -> peer URLs, from --initial-cluster. */
  initialCluster: Record<string, string[]>;
  initialClusterToken: string;
  skipHashCheck?: boolean;
}

/** Records written per RocksDB batch while restoring. */
const RECORDS_PER_BATCH = 1024;

/**
 * etcd's `snapshot restore`: a fresh data directory for one member of a new cluster, holding the
 * snapshot's state machine (every key revision, the compaction state, leases, auth, alarms) under
 * new member and cluster ids derived from the flags as a first start derives them. The old
 * cluster's Raft log, hard state, configuration and member list are left behind: the member's
 * first start begins a new log after the snapshot's applied index (see RaftDriver.open), so
 * every member restored from the same file starts from the same state.
 */
export async function restoreSnapshot(file: Buffer, opts: RestoreOptions): Promise<Identity> {
  if (!opts.initialCluster[opts.name]) {
    throw new Error(
      `couldn't find local name ${JSON.stringify(opts.name)} in the initial cluster configuration`,
    );
  }
  if (existsSync(opts.dataDir)) throw new Error(`data-dir ${JSON.stringify(opts.dataDir)} exists`);
  const records = parseSnapshot(file, { skipHashCheck: opts.skipHashCheck });
  const image = new ImageKeys([...MEMBER_LOCAL_KEYS]);
  const kept = records.filter(([key]) => image.includes(key) && !key.equals(CONF_STATE_KEY));

  const dbDir = join(opts.dataDir, 'member', 'db');
  mkdirSync(dbDir, { recursive: true, mode: 0o700 });
  try {
    const engine = await Engine.open(dbDir);
    try {
      for (let i = 0; i < kept.length; i += RECORDS_PER_BATCH) {
        const ops = kept
          .slice(i, i + RECORDS_PER_BATCH)
          .map(([key, value]): EngineOp => ({ type: 'put', key, value }));
        engine.write(ops);
      }
      // Synced, and written last: the identity marks a data directory as bootstrapped.
      const { identity } = await bootstrap(engine, {
        name: opts.name,
        initialCluster: opts.initialCluster,
        initialClusterToken: opts.initialClusterToken,
        initialClusterState: 'new',
      });
      return identity;
    } finally {
      await engine.close();
    }
  } catch (err) {
    // Nothing half-restored is left for a member to start from.
    rmSync(opts.dataDir, { recursive: true, force: true });
    throw err;
  }
}

/** What etcdctl's `snapshot status` reports about a snapshot file. */
export interface SnapshotStatus {
  /** CRC-32C over every record, key then value, in file order (etcd: over its buckets). */
  hash: number;
  /** The highest revision of any key revision record. */
  revision: number;
  totalKey: number;
  /** Bytes of the snapshot without its sha256 trailer (etcd: the bbolt file's size). */
  totalSize: number;
}

export function snapshotStatus(file: Buffer): SnapshotStatus {
  const records = parseSnapshot(file);
  let revision = 0;
  const hash = new Crc32c();
  for (const [key, value] of records) {
    if (key[0] === REV_PREFIX) revision = Math.max(revision, parseRevKey(key).main);
    hash.update(key).update(value);
  }
  return {
    hash: hash.digest(),
    revision,
    totalKey: records.length,
    totalSize: file.length - 32,
  };
}
