// Corrupts a stopped member's data for real: rewrites one stored value in its RocksDB, as a bad
// disk or a bug would, without going through the member.
import { join } from 'node:path';
import { Engine } from '../../libs/storage/src';
import { REV_KEYSPACE_END, decodeRecord, revKeyLowerBound } from '../../libs/storage/src/encoding';

/** Flips the last byte of the value of `key`'s latest revision record in `dataDir`. */
export async function flipStoredValue(dataDir: string, key: string): Promise<void> {
  const engine = await Engine.open(join(dataDir, 'member', 'db'));
  try {
    let latest: [Buffer, Buffer] | undefined;
    for await (const chunk of engine.scan(revKeyLowerBound(0), REV_KEYSPACE_END)) {
      for (const [k, v] of chunk) {
        const record = decodeRecord(v);
        if (!record.tombstone && record.key.toString() === key) latest = [k, v];
      }
    }
    if (!latest) throw new Error(`no stored value of ${key} in ${dataDir}`);
    const value = Buffer.from(latest[1]);
    value[value.length - 1] ^= 0x01;
    await engine.writeSynced([{ type: 'put', key: latest[0], value }]);
  } finally {
    await engine.close();
  }
}
