import { KeyValue, MvccEvent, RangeRequest, RangeResult } from '../../storage/src';

/** An event as a watcher receives it: with the key's previous version when it asked for it. */
export interface WatchEvent extends MvccEvent {
  prevKv?: KeyValue;
}

/** What the hub reads: the member's own applied state (any member serves watches). */
export interface WatchableStore {
  readonly revision: number;
  readonly compactedRevision: number;
  /** The events of revisions [from, to], in revision order, in chunks. */
  history(from: number, to: number): AsyncIterable<MvccEvent[]>;
  range(req: RangeRequest): { revision: number; result: RangeResult };
}

/** A watch as created (etcd's WatchCreateRequest, normalized). */
export interface WatchSpec {
  key: Buffer;
  /** undefined: the single key; null: every key from `key` on; otherwise [key, rangeEnd). */
  rangeEnd: Buffer | null | undefined;
  /** 0 = from the next revision on. */
  startRevision: number;
  noPut: boolean;
  noDelete: boolean;
  prevKv: boolean;
  progressNotify: boolean;
  fragment: boolean;
}

/** Where the hub sends a watcher's notifications (its stream). */
export interface WatchOutput {
  /**
   * False while the stream's buffer is full: the hub then stops feeding the stream's watchers
   * and replays what they missed from history once the stream calls the hub's `kick`.
   */
  readonly ready: boolean;
  events(watchId: bigint, events: WatchEvent[], revision: number): void;
  /** The watcher's next revision was compacted: it is canceled (the hub has dropped it). */
  compacted(watchId: bigint, compactRevision: number): void;
}
