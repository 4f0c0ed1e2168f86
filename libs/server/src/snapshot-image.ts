import { ImageKeys } from '../../consensus/src';
import { Engine, decodeNumber } from '../../storage/src';
import { APPLIED_INDEX_KEY } from './applier';

/** Entries read per iterator step: bounded work per event-loop turn. */
const ENTRIES_PER_STEP = 512;

/**
 * The state machine's image for a follower's snapshot: every record `keys` includes, in key
 * order, from one RocksDB iterator opened before this returns (so it is the state as applied
 * now: the caller must not apply anything before calling). The image's applied index must be
 * `index`, or the stream fails instead of shipping a state that does not match its metadata.
 */
export function stateMachineImage(
  engine: Engine,
  keys: ImageKeys,
  index: bigint,
): AsyncGenerator<[Buffer, Buffer][]> {
  const scan = engine.scan(undefined, undefined, ENTRIES_PER_STEP);
  // Runs the scan up to its first read: the iterator, and its point-in-time view, exist now.
  const first = scan.next();
  const image = (async function* () {
    let applied: number | undefined;
    try {
      for (let step = await first; !step.done; step = await scan.next()) {
        const records = step.value.filter(([k]) => keys.includes(k));
        for (const [k, v] of records) if (k.equals(APPLIED_INDEX_KEY)) applied = decodeNumber(v);
        if (records.length > 0) yield records;
      }
    } finally {
      await scan.return(undefined);
    }
    if (applied === undefined || BigInt(applied) !== index) {
      throw new Error(`snapshot image is at applied index ${applied}, not ${index}`);
    }
  })();
  // An image dropped before its first read (the peer went away) still closes its iterator,
  // which would otherwise pin a RocksDB snapshot until the engine closes.
  const close = image.return.bind(image);
  image.return = async (value) => {
    await scan.return(undefined);
    return close(value);
  };
  return image;
}
