import { EventType } from '../../../storage/src';
import { WatchEvent, Watcher, WatchHub } from '../../../watch/src';
import { EtcdError, Errors, GrpcCode } from '../etcd-errors';

/** A wait ended because the client went away (etcd answers "context canceled"). */
export const canceled = () => new EtcdError(GrpcCode.CANCELLED, 'context canceled');

// Internal watchers never reach a client stream: their ids only have to differ from each other.
let nextInternalWatchId = -1n;

/**
 * Watches [key, rangeEnd) on the member's own hub from `fromRevision` on (history first if
 * that is in the past), handing every batch to `handle` until it returns a result. Rejects
 * when `signal` aborts, `handle` throws, or the revision it needs was compacted.
 */
export function watchUntil<T>(
  hub: WatchHub,
  range: { key: Buffer; rangeEnd?: Buffer },
  fromRevision: number,
  signal: AbortSignal,
  handle: (events: WatchEvent[], revision: number) => T | undefined,
): Promise<T> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(canceled());
    const finish = (settle: () => void) => {
      hub.remove(watcher);
      signal.removeEventListener('abort', onAbort);
      settle();
    };
    const onAbort = () => finish(() => reject(canceled()));
    const watcher = new Watcher(
      nextInternalWatchId--,
      {
        key: range.key,
        rangeEnd: range.rangeEnd,
        startRevision: fromRevision,
        noPut: false,
        noDelete: false,
        prevKv: false,
        progressNotify: false,
        fragment: false,
      },
      {
        ready: true,
        events: (_id, events, revision) => {
          if (watcher.closed) return;
          try {
            const result = handle(events, revision);
            if (result !== undefined) finish(() => resolve(result));
          } catch (err) {
            finish(() => reject(err));
          }
        },
        compacted: () => finish(() => reject(Errors.compacted())),
      },
    );
    signal.addEventListener('abort', onAbort);
    hub.add(watcher);
  });
}

/** Resolves with the revision at which `key` is deleted (watching from `fromRevision`). */
export function waitForDelete(
  hub: WatchHub,
  key: Buffer,
  fromRevision: number,
  signal: AbortSignal,
): Promise<number> {
  return watchUntil(hub, { key }, fromRevision, signal, (events) => {
    const del = events.find((ev) => ev.type === EventType.DELETE);
    return del?.kv.modRevision;
  });
}

/** The end of the range of every key that starts with `prefix` (etcd's GetPrefixRangeEnd). */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}
