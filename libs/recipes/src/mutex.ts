// Mutex with etcd's Go client key layout: `<prefix>/<lease id hex>`, ordered by create revision.
import { AbortError, CairnClient, TxnBuilder, cmp, op } from '../../client/src';
import { LockedError, SessionExpiredError } from './errors';
import { Session } from './session';
import { waitDeletes } from './wait-deletes';

export interface LockOptions {
  signal?: AbortSignal;
}

/**
 * A distributed lock. Contenders each create `<prefix>/<lease hex>` under their session's lease; the
 * key with the lowest create revision holds the lock, and every other contender waits only for the
 * key just before its own to be deleted. Interoperates with `etcdctl lock <prefix>` and Go's
 * concurrency.Mutex on the same name.
 *
 * Holding the lock is not enough to write safely (a paused process may still believe it holds a
 * lock that expired): guard writes with `fencedTxn()` or compare `fencingToken` on the resource.
 */
export class Mutex {
  private readonly prefix: string;
  private myKey?: string;
  private myRevision = 0;

  constructor(
    readonly session: Session,
    name: string,
  ) {
    this.prefix = `${name}/`;
  }

  private get client(): CairnClient {
    return this.session.client;
  }

  /** This session's key under the lock prefix. */
  get key(): string {
    return `${this.prefix}${this.session.leaseHex}`;
  }

  /** The fencing token while held: the lock key's create revision, increasing with every acquisition. */
  get fencingToken(): number {
    if (!this.myKey) throw new LockedError('the lock is not held');
    return this.myRevision;
  }

  get isHeld(): boolean {
    return this.myKey !== undefined;
  }

  /** Acquires the lock, waiting for the contenders queued before this session. */
  async lock(options: LockOptions = {}): Promise<void> {
    this.session.assertAlive();
    const { isOwner } = await this.enqueue();
    if (isOwner) return void (this.myKey = this.key);
    const lost = new AbortController();
    const onLost = () => lost.abort();
    this.session.once('lost', onLost);
    const signal = options.signal ? AbortSignal.any([options.signal, lost.signal]) : lost.signal;
    try {
      await waitDeletes(this.client, this.prefix, this.myRevision - 1, signal);
      // The wait may have ended because the session (and with it our key) expired.
      const mine = await this.client.kv.get(this.key);
      if (!mine || mine.createRevision !== this.myRevision)
        throw new SessionExpiredError('lock key lost while waiting');
      this.myKey = this.key;
    } catch (e) {
      await this.client.kv.delete(this.key).catch(() => undefined);
      if (e instanceof AbortError && lost.signal.aborted)
        throw new SessionExpiredError('session lost while waiting for the lock', undefined, { cause: e });
      throw e;
    } finally {
      this.session.off('lost', onLost);
    }
  }

  /** Acquires the lock if nobody holds it, else fails with LockedError without queueing. */
  async tryLock(): Promise<void> {
    this.session.assertAlive();
    const { isOwner } = await this.enqueue();
    if (isOwner) return void (this.myKey = this.key);
    await this.client.kv.delete(this.key);
    throw new LockedError(`lock ${this.prefix} is held by someone else`);
  }

  async unlock(): Promise<void> {
    if (!this.myKey) return;
    const key = this.myKey;
    this.myKey = undefined;
    await this.client.kv.delete(key);
  }

  /** Runs `fn` holding the lock and releases it afterwards, whatever `fn` does. */
  async withLock<T>(fn: (fencingToken: number) => Promise<T> | T, options: LockOptions = {}): Promise<T> {
    await this.lock(options);
    try {
      return await fn(this.myRevision);
    } finally {
      await this.unlock();
    }
  }

  /** A txn that only takes effect while this lock is still held (its key has our create revision). */
  fencedTxn(): TxnBuilder {
    return this.client.kv.txn().if(cmp.create(this.key, '==', this.fencingToken));
  }

  /** Puts our key (unless this session already has it) and tells whether we are first in line. */
  private async enqueue(): Promise<{ isOwner: boolean }> {
    const firstCreate = op.get(this.prefix, {
      prefix: true,
      sort: { target: 'CREATE', order: 'ASCEND' },
      limit: 1,
    });
    const res = await this.client.kv
      .txn()
      .if(cmp.create(this.key, '==', 0))
      .then(op.put(this.key, '', { lease: this.session.leaseId }), firstCreate)
      .else(op.get(this.key), firstCreate)
      .commit();
    if (res.succeeded) this.myRevision = res.header.revision;
    else {
      const existing = res.results[0];
      this.myRevision = existing.type === 'range' ? existing.result.kvs[0].createRevision : 0;
    }
    const owner = res.results[1];
    const ownerRevision = owner.type === 'range' ? owner.result.kvs[0]?.createRevision : undefined;
    return { isOwner: ownerRevision === undefined || ownerRevision === this.myRevision };
  }
}
