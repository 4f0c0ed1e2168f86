import { Engine, EngineOp, LeaseLookup, MvccStore, keyBuffer, metaKey } from '../../storage/src';
import { LeaseError } from './errors';
import { ExpiryHeap, ExpiryItem } from './expiry-heap';

/** etcd's MaxLeaseTTL (seconds): larger grants are refused with "too large lease TTL". */
export const MAX_LEASE_TTL = 9_000_000_000;
/** How long the leader waits for a proposed revoke of an expired lease before proposing it again (etcd's). */
export const REVOKE_RETRY_MS = 3_000;

const LEASE_PREFIX = metaKey('lease/');
const LEASE_PREFIX_END = metaKey('lease0'); // '0' follows '/'

export interface LessorOptions {
  /** The smallest TTL a grant gets, in seconds (see minLeaseTtl). */
  minTtl: number;
  /** A monotonic clock in milliseconds. */
  now?: () => number;
}

/**
 * etcd's minimum lease TTL: one and a half election timeouts (in whole heartbeats), rounded up
 * to a second, so a lease survives the election that follows a leader's failure.
 */
export function minLeaseTtl(heartbeatMs: number, electionMs: number): number {
  const electionTicks = Math.max(2, Math.round(electionMs / heartbeatMs));
  return Math.ceil((Math.floor((3 * electionTicks) / 2) * heartbeatMs) / 1000);
}

class Lease {
  readonly keys = new Set<string>();
  /** When it expires (monotonic ms): only the leader tracks it; Infinity elsewhere. */
  expiry = Infinity;
  /** Once its revoke was handed out, when it may be handed out again. */
  retryAt = 0;
  constructor(
    readonly id: bigint,
    /** The granted TTL in seconds, after the minimum was applied. */
    readonly ttl: number,
  ) {}
}

export interface LeaseTimeToLive {
  /** Seconds left (truncated, as etcd); the granted TTL where this member does not track expiry. */
  remaining: number;
  granted: number;
  keys: Buffer[];
}

/**
 * The lessor: every lease with its TTL and attached keys. Grants and revokes come from the
 * log and are persisted with the applied batch (see takeOps), so every member holds the same
 * leases and they survive restarts. Expiry is the leader's alone: only while primary does
 * it track deadlines, renew on keep-alives and report expired leases for revocation; those
 * deadlines live in memory only and are reset to a full TTL when a member becomes leader.
 */
export class Lessor implements LeaseLookup {
  private readonly leases = new Map<bigint, Lease>();
  private readonly heap = new ExpiryHeap();
  private pending: EngineOp[] = [];
  private primary = false;
  private readonly now: () => number;

  private constructor(readonly opts: LessorOptions) {
    this.now = opts.now ?? (() => performance.now());
  }

  /**
   * Loads the persisted leases, re-attaches the keys the store holds for them, and registers
   * itself as the store's lease lookup.
   */
  static async load(engine: Engine, store: MvccStore, opts: LessorOptions): Promise<Lessor> {
    const lessor = new Lessor(opts);
    await lessor.reload(engine, store);
    return lessor;
  }

  /**
   * (Re)loads the leases from the engine and the keys attached to them from `store` (after a
   * snapshot replaced both); a primary lessor gives every lease a full TTL from now.
   */
  async reload(engine: Engine, store: MvccStore): Promise<void> {
    this.leases.clear();
    this.pending = [];
    for await (const chunk of engine.scan(LEASE_PREFIX, LEASE_PREFIX_END)) {
      for (const [key, value] of chunk) {
        const id = key.readBigInt64BE(LEASE_PREFIX.length);
        this.leases.set(id, new Lease(id, value.readDoubleBE(0)));
      }
    }
    store.forEachLeasedKey((key, id) => this.leases.get(id)?.keys.add(key));
    store.leases = this;
    if (this.primary) this.promote(0);
    else this.heap.reset([]);
  }

  get isPrimary(): boolean {
    return this.primary;
  }

  get size(): number {
    return this.leases.size;
  }

  exists(id: bigint): boolean {
    return this.leases.has(id);
  }

  keyLeaseChanged(key: string, from: bigint, to: bigint): void {
    if (from !== 0n) this.leases.get(from)?.keys.delete(key);
    if (to !== 0n) this.leases.get(to)?.keys.add(key);
  }

  // ---- replicated changes (the apply loop) ----

  /** Grants a lease (ttl raised to the minimum); returns the TTL granted. */
  grant(id: bigint, ttl: number): number {
    if (id === 0n) throw new LeaseError('not-found');
    if (ttl > MAX_LEASE_TTL) throw new LeaseError('ttl-too-large');
    if (this.leases.has(id)) throw new LeaseError('exists');
    const lease = new Lease(id, Math.max(ttl, this.opts.minTtl));
    this.leases.set(id, lease);
    if (this.primary) this.schedule(lease, this.now() + lease.ttl * 1000);
    this.pending.push({ type: 'put', key: leaseKey(id), value: encodeTtl(lease.ttl) });
    return lease.ttl;
  }

  /**
   * Removes a lease and returns its keys in byte order: the caller deletes them in the same
   * apply, in one revision.
   */
  revoke(id: bigint): Buffer[] {
    const lease = this.leases.get(id);
    if (!lease) throw new LeaseError('not-found');
    this.leases.delete(id);
    this.pending.push({ type: 'del', key: leaseKey(id) });
    return [...lease.keys].sort().map(keyBuffer);
  }

  /** The writes the changes since the last call need; the applier flushes them with its batch. */
  takeOps(): EngineOp[] {
    const ops = this.pending;
    this.pending = [];
    return ops;
  }

  // ---- reads ----

  timeToLive(id: bigint, withKeys: boolean): LeaseTimeToLive | undefined {
    const lease = this.leases.get(id);
    if (!lease) return undefined;
    return {
      remaining: this.primary ? Math.trunc((lease.expiry - this.now()) / 1000) : lease.ttl,
      granted: lease.ttl,
      keys: withKeys ? [...lease.keys].map(keyBuffer) : [],
    };
  }

  /** Every lease id, soonest expiry first (as etcd lists them). */
  list(): bigint[] {
    return [...this.leases.values()].sort((a, b) => a.expiry - b.expiry || 0).map((l) => l.id);
  }

  // ---- the leader's side ----

  /** Renews a lease for its full TTL (a keep-alive); returns that TTL. */
  renew(id: bigint): number {
    if (!this.primary) throw new LeaseError('not-primary');
    const lease = this.leases.get(id);
    const now = this.now();
    // An expired lease is as good as gone: its revoke is on the way.
    if (!lease || lease.expiry <= now) throw new LeaseError('not-found');
    this.schedule(lease, now + lease.ttl * 1000);
    if (this.heap.size > 2 * this.leases.size + 1024) this.compactHeap();
    return lease.ttl;
  }

  /**
   * Becomes the one that expires leases: every lease gets its full TTL plus `extendMs` from
   * now, so none expires because leadership moved (its holder had no leader to renew with).
   */
  promote(extendMs: number): void {
    this.primary = true;
    const now = this.now();
    const items: ExpiryItem[] = [];
    for (const lease of this.leases.values()) {
      lease.expiry = now + extendMs + lease.ttl * 1000;
      lease.retryAt = 0;
      items.push({ id: lease.id, at: lease.expiry });
    }
    this.heap.reset(items);
  }

  /** Stops expiring leases (leadership lost). */
  demote(): void {
    this.primary = false;
    for (const lease of this.leases.values()) lease.expiry = Infinity;
    this.heap.reset([]);
  }

  /**
   * Up to `limit` expired leases to revoke. Each is handed out again only if its revoke has
   * not applied after REVOKE_RETRY_MS (a proposal lost to a leader change).
   */
  takeExpired(limit: number): bigint[] {
    const out: bigint[] = [];
    if (!this.primary) return out;
    const now = this.now();
    for (let top = this.heap.peek(); top && top.at <= now && out.length < limit; top = this.heap.peek()) {
      this.heap.pop();
      const lease = this.leases.get(top.id);
      // Stale items: the lease is gone, was renewed, or has a retry scheduled.
      if (!lease || lease.expiry > now || lease.retryAt > now) continue;
      lease.retryAt = now + REVOKE_RETRY_MS;
      this.heap.push({ id: lease.id, at: lease.retryAt });
      out.push(lease.id);
    }
    return out;
  }

  private schedule(lease: Lease, at: number): void {
    lease.expiry = at;
    this.heap.push({ id: lease.id, at });
  }

  /** Drops the stale items renewals leave behind. */
  private compactHeap(): void {
    const items: ExpiryItem[] = [];
    for (const l of this.leases.values()) {
      if (l.expiry !== Infinity) items.push({ id: l.id, at: Math.max(l.expiry, l.retryAt) });
    }
    this.heap.reset(items);
  }
}

function leaseKey(id: bigint): Buffer {
  const key = Buffer.allocUnsafe(LEASE_PREFIX.length + 8);
  LEASE_PREFIX.copy(key);
  key.writeBigInt64BE(id, LEASE_PREFIX.length);
  return key;
}

function encodeTtl(ttl: number): Buffer {
  const buf = Buffer.allocUnsafe(8);
  buf.writeDoubleBE(ttl);
  return buf;
}
