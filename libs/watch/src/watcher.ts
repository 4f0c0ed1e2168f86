import { EventType, MvccEvent } from '../../storage/src';
import { WatchOutput, WatchSpec } from './types';

/** One watch: its key range, filters, and the next revision it has not been sent yet. */
export class Watcher {
  /** The first revision whose events this watcher still needs (etcd's minRev). */
  next = 0;
  /** Set once canceled or compacted: the hub forgets it, and work in flight skips it. */
  closed = false;
  /** Latin1 strings: JavaScript string order is then byte order, as in the key index. */
  readonly start: string;
  readonly end: string | null | undefined;

  constructor(
    readonly id: bigint,
    readonly spec: WatchSpec,
    readonly output: WatchOutput,
  ) {
    this.start = spec.key.toString('latin1');
    this.end = spec.rangeEnd == null ? spec.rangeEnd : spec.rangeEnd.toString('latin1');
  }

  get isSingleKey(): boolean {
    return this.end === undefined;
  }

  covers(key: string): boolean {
    if (this.end === undefined) return key === this.start;
    return key >= this.start && (this.end === null || key < this.end);
  }

  /** The filters (NOPUT, NODELETE) let this event through. */
  accepts(ev: MvccEvent): boolean {
    return ev.type === EventType.PUT ? !this.spec.noPut : !this.spec.noDelete;
  }
}
