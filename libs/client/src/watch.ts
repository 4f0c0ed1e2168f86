// Watch: one gRPC stream per watcher that resumes after a disconnect from the last seen revision + 1.
import * as grpc from '@grpc/grpc-js';
import { EventEmitter } from 'node:events';
import { AsyncQueue } from './async-queue';
import { Connection } from './connection';
import {
  CairnError,
  CompactedError,
  InvalidAuthTokenError,
  WatchCancelledError,
  errorFromMessage,
  fromServiceError,
  transient,
} from './errors';
import { Bytes, KeyValue, Namespace, ResponseHeader, header, prefixEnd } from './types';

export interface WatchOptions {
  prefix?: boolean;
  rangeEnd?: Bytes;
  /** First revision to report; default: changes after the watch is created. */
  startRevision?: number;
  prevKv?: boolean;
  /** Leave out puts or deletes. */
  filters?: Array<'noput' | 'nodelete'>;
  /** Ask the server for periodic progress notifications (they advance `revision`). */
  progressNotify?: boolean;
}

export interface WatchEvent {
  type: 'put' | 'delete';
  kv: KeyValue;
  prevKv?: KeyValue;
  /** The revision of the change (kv.modRevision). */
  revision: number;
}

/**
 * A live watch. Iterate it (`for await (const ev of watcher)`) or listen to 'event' / 'put' / 'delete';
 * attach in the same tick that created it so nothing is missed. Other events: 'connected' (each
 * (re)created stream, with the header), 'disconnected' (the error), 'error' (terminal: compaction or
 * cancellation by the server; the iterators fail with it too).
 */
export class Watcher extends EventEmitter implements AsyncIterable<WatchEvent> {
  /** The next revision this watcher will report; after a disconnect it resumes from here. */
  nextRevision?: number;
  private call?: grpc.ClientDuplexStream<any, any>;
  private readonly iterators = new Set<AsyncQueue<WatchEvent>>();
  private closed = false;
  private attempt = 0;
  private retryTimer?: NodeJS.Timeout;
  private readonly request: Record<string, unknown>;
  /** Resolves once the server has created the watch for the first time; rejects if it fails first. */
  readonly ready: Promise<ResponseHeader>;
  private markReady!: (h: ResponseHeader) => void;
  private failReady!: (e: CairnError) => void;

  constructor(
    private readonly conn: Connection,
    private readonly ns: Namespace,
    key: Bytes,
    options: WatchOptions = {},
  ) {
    super();
    const k = ns.key(key);
    this.request = {
      key: k,
      range_end: options.prefix
        ? prefixEnd(k)
        : options.rangeEnd !== undefined
          ? ns.rangeEnd(options.rangeEnd)
          : Buffer.alloc(0),
      progress_notify: !!options.progressNotify,
      filters: (options.filters ?? []).map((f) => f.toUpperCase()),
      prev_kv: !!options.prevKv,
    };
    this.nextRevision = options.startRevision || undefined;
    this.ready = new Promise((ok, fail) => ((this.markReady = ok), (this.failReady = fail)));
    this.ready.catch(() => undefined);
    setImmediate(() => this.connect());
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    const q: AsyncQueue<WatchEvent> = new AsyncQueue(() => this.iterators.delete(q));
    if (this.closed) q.end();
    else this.iterators.add(q);
    return q;
  }

  /** Stops the watch; iterators finish. */
  async cancel(): Promise<void> {
    this.finish();
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const endpoint = this.conn.pickEndpoint();
    let md: grpc.Metadata;
    try {
      md = await this.conn.metadata(endpoint);
    } catch (e) {
      return this.disconnected(e as CairnError);
    }
    if (this.closed) return;
    const call = this.conn.client('Watch', endpoint).Watch(md) as grpc.ClientDuplexStream<any, any>;
    this.call = call;
    call.on('data', (res) => this.onResponse(res));
    call.on('error', (e: grpc.ServiceError) => this.call === call && this.disconnected(fromServiceError(e)));
    call.on('end', () => this.call === call && this.disconnected(new CairnError('watch stream ended')));
    call.write({ create_request: { ...this.request, start_revision: String(this.nextRevision ?? 0) } });
  }

  private onResponse(res: any): void {
    const h = header(res.header);
    if (Number(res.compact_revision) > 0) {
      const err = new CompactedError(
        `etcdserver: mvcc: required revision has been compacted (watch needs ${this.nextRevision}, compacted at ${res.compact_revision})`,
      );
      err.compactRevision = Number(res.compact_revision);
      return this.fail(err);
    }
    if (res.canceled) {
      const reason = res.cancel_reason || 'watch cancelled by the server';
      const err = errorFromMessage(reason);
      if (err instanceof InvalidAuthTokenError) {
        this.conn.invalidateToken();
        return this.disconnected(err);
      }
      return this.fail(
        err instanceof CompactedError ? err : new WatchCancelledError(reason, undefined, { cause: err }),
      );
    }
    if (res.created) {
      this.attempt = 0;
      this.nextRevision ??= h.revision + 1;
      this.markReady(h);
      this.emit('connected', h);
    }
    for (const raw of res.events) {
      const ev: WatchEvent = {
        type: raw.type === 'DELETE' ? 'delete' : 'put',
        kv: this.ns.kv(raw.kv),
        prevKv: raw.prev_kv ? this.ns.kv(raw.prev_kv) : undefined,
        revision: Number(raw.kv.mod_revision),
      };
      // After a resume the server starts at nextRevision, so nothing older can repeat; guard anyway.
      if (this.nextRevision !== undefined && ev.revision < this.nextRevision) continue;
      this.nextRevision = ev.revision + 1;
      this.deliver(ev);
    }
    // A progress notification: nothing before this revision is left to report.
    if (!res.created && res.events.length === 0 && h.revision >= (this.nextRevision ?? 0))
      this.nextRevision = h.revision + 1;
  }

  /** Delivers one event; a revision's events stay together because the server sends them together. */
  private deliver(ev: WatchEvent): void {
    for (const q of this.iterators) q.push(ev);
    this.emit('event', ev);
    this.emit(ev.type, ev);
  }

  private disconnected(err: CairnError): void {
    this.call = undefined;
    if (this.closed) return;
    // Only a broken connection or a stale token is worth another try; anything else (the server does
    // not serve Watch, permission denied, ...) would fail the same way forever.
    if (!(
      transient(err) ||
      err instanceof InvalidAuthTokenError ||
      err.code === undefined ||
      err.code === grpc.status.CANCELLED
    ))
      return this.fail(err);
    this.emit('disconnected', err);
    const delay = Math.min(50 * 2 ** this.attempt++, 2000);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  private fail(err: CairnError): void {
    if (this.closed) return;
    this.finish(err);
    this.failReady(err);
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  private finish(err?: CairnError): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retryTimer);
    const call = this.call;
    this.call = undefined;
    if (call) {
      call.end();
      call.cancel();
    }
    for (const q of this.iterators) q.end(err);
    this.iterators.clear();
    this.emit('closed', err);
  }
}
