import { WatchHub } from './hub';
import { WatchEvent, WatchOutput, WatchSpec } from './types';
import { Watcher } from './watcher';

/** What a watch stream sends its client, before the wire encoding (etcd's WatchResponse). */
export type WatchReply =
  | { kind: 'created'; watchId: bigint; revision: number }
  /** Creation refused: etcd answers watch_id -1, created and canceled, with the reason. */
  | { kind: 'refused'; reason: string; revision: number }
  | { kind: 'canceled'; watchId: bigint; revision: number }
  /** A progress notification or the answer to a progress request (watch id -1). */
  | { kind: 'progress'; watchId: bigint; revision: number }
  | { kind: 'events'; watchId: bigint; revision: number; events: WatchEvent[]; fragment: boolean }
  | { kind: 'compacted'; watchId: bigint; compactRevision: number };

/** The transport a stream writes to: the gRPC call, with its own bounded buffer. */
export interface WatchTransport {
  /** False while the transport's buffer is over its bound. */
  readonly ready: boolean;
  send(reply: WatchReply): void;
}

export interface WatchStreamOptions {
  /** etcd's --experimental-watch-progress-notify-interval; 0 disables. */
  progressNotifyIntervalMs: number;
}

/** etcd's reasons for refusing a watch, word for word (clients show them). */
export const REFUSED_EMPTY_RANGE = 'mvcc: watcher range is empty';
export const REFUSED_DUPLICATE_ID = 'mvcc: duplicate watch ID provided on the WatchStream';

/**
 * One Watch stream: its watchers by id (ids chosen by the client, or assigned from 0 on),
 * create, cancel and progress requests with etcd 3.4's answers, and periodic progress
 * notifications for the watchers that asked for them.
 */
export class WatchStream implements WatchOutput {
  private readonly watchers = new Map<bigint, Watcher>();
  private nextId = 0n;
  /** Watchers with progress_notify, and whether they had no events since the last tick. */
  private readonly idle = new Map<Watcher, boolean>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly hub: WatchHub,
    private readonly transport: WatchTransport,
    opts: WatchStreamOptions,
  ) {
    if (opts.progressNotifyIntervalMs > 0) {
      this.timer = setInterval(() => this.progressTick(), opts.progressNotifyIntervalMs);
      this.timer.unref();
    }
  }

  get ready(): boolean {
    return this.transport.ready;
  }

  get size(): number {
    return this.watchers.size;
  }

  /** A create request; `watchId` 0 asks for the next free id. */
  create(watchId: bigint, spec: WatchSpec): void {
    const revision = this.hub.revision;
    if (spec.rangeEnd && Buffer.compare(spec.key, spec.rangeEnd) >= 0) {
      return this.transport.send({ kind: 'refused', reason: REFUSED_EMPTY_RANGE, revision });
    }
    let id = watchId;
    if (id === 0n) {
      while (this.watchers.has(this.nextId)) this.nextId++;
      id = this.nextId++;
    } else if (this.watchers.has(id)) {
      return this.transport.send({ kind: 'refused', reason: REFUSED_DUPLICATE_ID, revision });
    }
    const w = new Watcher(id, spec, this);
    this.watchers.set(id, w);
    if (spec.progressNotify) this.idle.set(w, true);
    // The created reply goes out before anything the hub sends for this watcher.
    this.transport.send({ kind: 'created', watchId: id, revision });
    this.hub.add(w);
  }

  /** A create request refused before it reached the hub (e.g. by auth), with etcd's reason. */
  refuse(reason: string): void {
    this.transport.send({ kind: 'refused', reason, revision: this.hub.revision });
  }

  /** A cancel request; an unknown id gets no answer, as in etcd 3.4. */
  cancel(watchId: bigint): void {
    const w = this.watchers.get(watchId);
    if (!w) return;
    this.forget(w);
    this.transport.send({ kind: 'canceled', watchId, revision: this.hub.revision });
  }

  /** A progress request: answered at once with the current revision (watch id -1). */
  progress(): void {
    this.transport.send({ kind: 'progress', watchId: -1n, revision: this.hub.revision });
  }

  /** The transport drained: let the hub feed this stream's watchers again. */
  resume(): void {
    if (!this.closed) this.hub.kick();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const w of [...this.watchers.values()]) this.forget(w);
  }

  // ---- WatchOutput: what the hub sends this stream's watchers ----

  events(watchId: bigint, events: WatchEvent[], revision: number): void {
    const w = this.watchers.get(watchId);
    if (!w) return;
    if (this.idle.has(w)) this.idle.set(w, false);
    this.transport.send({ kind: 'events', watchId, revision, events, fragment: w.spec.fragment });
  }

  compacted(watchId: bigint, compactRevision: number): void {
    const w = this.watchers.get(watchId);
    if (!w) return;
    this.forget(w);
    this.transport.send({ kind: 'compacted', watchId, compactRevision });
  }

  private forget(w: Watcher): void {
    this.hub.remove(w);
    this.watchers.delete(w.id);
    this.idle.delete(w);
  }

  /**
   * etcd's progress notifications: each tick, a watcher that asked for them and had no events
   * since the previous tick is sent the current revision, if it is synced.
   */
  private progressTick(): void {
    for (const [w, idle] of this.idle) {
      if (idle && this.transport.ready && this.hub.isSynced(w)) {
        this.transport.send({ kind: 'progress', watchId: w.id, revision: this.hub.revision });
      }
      this.idle.set(w, true);
    }
  }
}
