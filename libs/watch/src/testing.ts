import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, EventType, KeyValue, MvccEvent, MvccStore } from '../../storage/src';
import { WatchHub, WatchHubOptions } from './hub';
import { WatchReply, WatchStream, WatchTransport } from './watch-stream';
import { WatchEvent, WatchSpec } from './types';

/** Test support: a real MVCC store on RocksDB in a temp dir, with a hub fed as the apply loop feeds it. */
export class HubFixture {
  /** Every event applied so far, with the key's previous version (the reference for prev_kv). */
  readonly log: { ev: MvccEvent; prev?: KeyValue }[] = [];
  private readonly state = new Map<string, KeyValue>();

  private constructor(
    private readonly dir: string,
    private readonly engine: Engine,
    readonly store: MvccStore,
    readonly hub: WatchHub,
  ) {}

  static async open(opts?: WatchHubOptions): Promise<HubFixture> {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-watch-'));
    const engine = await Engine.open(dir);
    const store = await MvccStore.open(engine);
    return new HubFixture(dir, engine, store, new WatchHub(store, opts));
  }

  /** Applies writes as one batch (one flush), then publishes its events as the applier does. */
  apply(...writes: ((s: MvccStore) => unknown)[]): void {
    for (const w of writes) w(this.store);
    const { events } = this.store.flush();
    for (const ev of events) {
      const k = ev.kv.key.toString('latin1');
      this.log.push({ ev, prev: this.state.get(k) });
      if (ev.type === EventType.PUT) this.state.set(k, ev.kv);
      else this.state.delete(k);
    }
    if (events.length > 0) this.hub.publish(events, this.store.revision);
  }

  put(key: string, value = 'v'): void {
    this.apply((s) => s.put({ key: Buffer.from(key), value: Buffer.from(value) }));
  }

  stream(opts = { progressNotifyIntervalMs: 0 }): StreamRecorder {
    return new StreamRecorder(this.hub, opts.progressNotifyIntervalMs);
  }

  /** Waits until no watcher is still catching up (those on a full stream excepted). */
  async settle(): Promise<void> {
    for (let turn = 0; turn < 100_000; turn++) {
      await new Promise((r) => setImmediate(r));
      if (this.hub.idle) return;
    }
    throw new Error('the hub never settled');
  }

  async close(): Promise<void> {
    this.hub.close();
    await this.store.idle();
    await this.engine.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A stream whose transport records every reply and can be made full (a client not reading). */
export class StreamRecorder implements WatchTransport {
  ready = true;
  readonly replies: WatchReply[] = [];
  readonly stream: WatchStream;

  constructor(hub: WatchHub, progressNotifyIntervalMs: number) {
    this.stream = new WatchStream(hub, this, { progressNotifyIntervalMs });
  }

  send(reply: WatchReply): void {
    this.replies.push(reply);
  }

  setReady(ready: boolean): void {
    this.ready = ready;
    if (ready) this.stream.resume();
  }

  /** The events sent for a watch id, in order. */
  events(watchId: bigint): WatchEvent[] {
    return this.replies.flatMap((r) => (r.kind === 'events' && r.watchId === watchId ? r.events : []));
  }

  of(watchId: bigint): WatchReply[] {
    return this.replies.filter((r) => 'watchId' in r && r.watchId === watchId);
  }
}

export function spec(
  key: string,
  over: Partial<Omit<WatchSpec, 'key'>> & { end?: string | null } = {},
): WatchSpec {
  const { end, ...rest } = over;
  return {
    key: Buffer.from(key),
    rangeEnd: end === undefined ? undefined : end === null ? null : Buffer.from(end),
    startRevision: 0,
    noPut: false,
    noDelete: false,
    prevKv: false,
    progressNotify: false,
    fragment: false,
    ...rest,
  };
}
