// Lease: grant with automatic keep-alive (and a 'lost' event), revoke, time-to-live, list.
import * as grpc from '@grpc/grpc-js';
import { EventEmitter } from 'node:events';
import { Connection } from './connection';
import { CairnError, LeaseNotFoundError, fromServiceError } from './errors';
import { CallOptions } from './options';
import { ResponseHeader, header } from './types';

export interface TimeToLive {
  header: ResponseHeader;
  id: bigint;
  /** Remaining seconds; -1 when the lease does not exist (any more). */
  ttl: number;
  grantedTtl: number;
  keys: Buffer[];
}

/**
 * A granted lease kept alive in the background (every TTL/3) until revoked or closed. Emits
 * 'keepalive' (remaining TTL in seconds) and, once, 'lost' (an error) when the lease expired or was
 * revoked elsewhere, or could not be renewed before it would have expired.
 */
export class Lease extends EventEmitter {
  private call?: grpc.ClientDuplexStream<any, any>;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  /** When the server forgets the lease at the latest, by the last confirmed renewal (ms epoch). */
  private expiresAt: number;
  private lostError?: CairnError;
  /** Send times of the keep-alives awaiting an answer on the current stream, oldest first. */
  private sentAt: number[] = [];

  constructor(
    private readonly conn: Connection,
    readonly id: bigint,
    readonly ttl: number,
    keepAlive: boolean,
  ) {
    super();
    this.expiresAt = Date.now() + ttl * 1000;
    if (keepAlive) this.schedule(0);
  }

  get lost(): boolean {
    return this.lostError !== undefined;
  }

  /** Revokes the lease (deleting its keys) and stops keeping it alive. */
  async revoke(opts?: CallOptions): Promise<void> {
    this.stop();
    await this.conn.unary('Lease', 'LeaseRevoke', { ID: String(this.id) }, 'idempotent', opts).catch((e) => {
      if (!(e instanceof LeaseNotFoundError)) throw e;
    });
  }

  async timeToLive(options: { keys?: boolean } & CallOptions = {}): Promise<TimeToLive> {
    return leaseTimeToLive(this.conn, this.id, options);
  }

  /** Stops the keep-alive without revoking: the lease then expires after its TTL. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    this.closeStream();
    this.emit('stopped');
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), ms);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    if (Date.now() >= this.expiresAt)
      return this.markLost(new LeaseNotFoundError('lease expired: it could not be renewed in time'));
    try {
      if (!this.call) await this.open();
      if (this.call) {
        this.sentAt.push(Date.now());
        this.call.write({ ID: String(this.id) });
      }
    } catch (e) {
      this.closeStream();
      this.emit('disconnected', e);
    }
    // Renew three times per TTL; retry sooner while the stream is down.
    this.schedule(this.call ? Math.max((this.ttl * 1000) / 3, 500) : 500);
  }

  private async open(): Promise<void> {
    const endpoint = this.conn.pickEndpoint();
    const md = await this.conn.metadata(endpoint);
    if (this.stopped) return;
    const call = this.conn.client('Lease', endpoint).LeaseKeepAlive(md) as grpc.ClientDuplexStream<any, any>;
    this.sentAt = [];
    call.on('data', (res) => {
      const ttl = Number(res.TTL);
      const at = this.sentAt.shift() ?? Date.now();
      if (ttl <= 0) return this.markLost(new LeaseNotFoundError('etcdserver: requested lease not found'));
      this.expiresAt = at + ttl * 1000;
      this.emit('keepalive', ttl);
    });
    const broken = (e: unknown) => {
      if (this.call !== call) return;
      this.call = undefined;
      const err = e instanceof CairnError ? e : fromServiceError(e as grpc.ServiceError);
      if (err instanceof LeaseNotFoundError) return this.markLost(err);
      this.emit('disconnected', err);
      this.schedule(500);
    };
    call.on('error', broken);
    call.on('end', () => broken(new CairnError('keep-alive stream ended')));
    this.call = call;
  }

  private closeStream(): void {
    const call = this.call;
    this.call = undefined;
    if (call) {
      call.end();
      call.cancel();
    }
  }

  private markLost(err: CairnError): void {
    if (this.lostError || this.stopped) return;
    this.lostError = err;
    this.stop();
    this.emit('lost', err);
  }
}

export async function leaseTimeToLive(
  conn: Connection,
  id: bigint,
  options: { keys?: boolean } & CallOptions = {},
): Promise<TimeToLive> {
  const r: any = await conn.unary(
    'Lease',
    'LeaseTimeToLive',
    { ID: String(id), keys: !!options.keys },
    'idempotent',
    options,
  );
  return {
    header: header(r.header),
    id: BigInt(r.ID),
    ttl: Number(r.TTL),
    grantedTtl: Number(r.grantedTTL),
    keys: r.keys,
  };
}

export class LeaseClient {
  private readonly live = new Set<Lease>();

  constructor(private readonly conn: Connection) {}

  /** Stops keeping every lease of this client alive. */
  stopAll(): void {
    for (const l of this.live) l.stop();
    this.live.clear();
  }

  /**
   * Grants a lease of `ttl` seconds (optionally with a chosen id) and keeps it alive unless
   * `keepAlive: false`. Close it with `lease.revoke()` (or `lease.stop()` to let it expire).
   */
  async grant(ttl: number, options: { id?: bigint; keepAlive?: boolean } & CallOptions = {}): Promise<Lease> {
    const r: any = await this.conn.unary(
      'Lease',
      'LeaseGrant',
      { TTL: String(ttl), ID: String(options.id ?? 0n) },
      'mutating',
      options,
    );
    const lease = new Lease(this.conn, BigInt(r.ID), Number(r.TTL), options.keepAlive ?? true);
    this.live.add(lease);
    lease.once('stopped', () => this.live.delete(lease));
    return lease;
  }

  async revoke(id: bigint, opts?: CallOptions): Promise<ResponseHeader> {
    // Revoking twice is harmless (the second answers "lease not found"), so retrying is safe.
    const r: any = await this.conn.unary('Lease', 'LeaseRevoke', { ID: String(id) }, 'idempotent', opts);
    return header(r.header);
  }

  timeToLive(id: bigint, options: { keys?: boolean } & CallOptions = {}): Promise<TimeToLive> {
    return leaseTimeToLive(this.conn, id, options);
  }

  /** Ids of every lease the cluster holds. */
  async leases(opts?: CallOptions): Promise<bigint[]> {
    const r: any = await this.conn.unary('Lease', 'LeaseLeases', {}, 'idempotent', opts);
    return r.leases.map((l: any) => BigInt(l.ID));
  }
}
