// Leader election with etcd's Go client key layout: `<prefix>/<lease id hex>` holding the proposal.
import { AsyncQueue, CairnClient, KeyValue, ResponseHeader, Watcher, cmp, op } from '../../client/src';
import { NoLeaderElectedError, NotLeaderError } from './errors';
import { Session } from './session';
import { waitDeletes } from './wait-deletes';

export interface Leader {
  key: string;
  value: Buffer;
  createRevision: number;
}

const leaderOf = (kv: KeyValue): Leader => ({
  key: kv.keyString,
  value: kv.value,
  createRevision: kv.createRevision,
});

/**
 * Campaign, proclaim, resign, leader and observe over `<name>/`. The candidate with the lowest create
 * revision leads; others wait for their direct predecessor only. Interoperates with `etcdctl elect`.
 */
export class Election {
  private readonly prefix: string;
  private leaderKey?: string;
  private leaderRevision = 0;

  constructor(
    readonly session: Session,
    name: string,
  ) {
    this.prefix = `${name}/`;
  }

  private get client(): CairnClient {
    return this.session.client;
  }

  get key(): string {
    return `${this.prefix}${this.session.leaseHex}`;
  }

  get isLeader(): boolean {
    return this.leaderKey !== undefined;
  }

  /** The create revision of our leader key while leading (usable as a fencing token). */
  get revision(): number {
    return this.leaderRevision;
  }

  /** Resolves once this session leads with `value`; rejects (after withdrawing) when aborted. */
  async campaign(value: string | Buffer, options: { signal?: AbortSignal } = {}): Promise<void> {
    this.session.assertAlive();
    const key = this.key;
    const res = await this.client.kv
      .txn()
      .if(cmp.create(key, '==', 0))
      .then(op.put(key, value, { lease: this.session.leaseId }))
      .else(op.get(key))
      .commit();
    this.leaderKey = key;
    this.leaderRevision = res.header.revision;
    if (!res.succeeded) {
      const r = res.results[0];
      const kv = r.type === 'range' ? r.result.kvs[0] : undefined;
      this.leaderRevision = kv?.createRevision ?? res.header.revision;
      if (kv && !kv.value.equals(Buffer.from(value))) await this.proclaim(value);
    }
    const lost = new AbortController();
    const onLost = () => lost.abort();
    this.session.once('lost', onLost);
    const signal = options.signal ? AbortSignal.any([options.signal, lost.signal]) : lost.signal;
    try {
      await waitDeletes(this.client, this.prefix, this.leaderRevision - 1, signal);
      this.session.assertAlive();
    } catch (e) {
      await this.resign().catch(() => undefined);
      if (lost.signal.aborted) this.session.assertAlive(); // throws the session's loss
      throw e;
    } finally {
      this.session.off('lost', onLost);
    }
  }

  /** Changes the leader's value without another election; fails with NotLeaderError when not leading. */
  async proclaim(value: string | Buffer): Promise<ResponseHeader> {
    if (!this.leaderKey) throw new NotLeaderError('not the leader');
    const res = await this.client.kv
      .txn()
      .if(cmp.create(this.leaderKey, '==', this.leaderRevision))
      .then(op.put(this.leaderKey, value, { lease: this.session.leaseId }))
      .commit();
    if (!res.succeeded) {
      this.leaderKey = undefined;
      throw new NotLeaderError('leadership lost');
    }
    return res.header;
  }

  /** Gives up leadership (or the candidacy), letting the next candidate lead. */
  async resign(): Promise<void> {
    if (!this.leaderKey) return;
    const key = this.leaderKey;
    this.leaderKey = undefined;
    await this.client.kv
      .txn()
      .if(cmp.create(key, '==', this.leaderRevision))
      .then(op.delete(key))
      .commit();
  }

  /** The current leader; NoLeaderElectedError when there is none. */
  async leader(): Promise<Leader> {
    const res = await this.client.kv.prefix(this.prefix, {
      sort: { target: 'CREATE', order: 'ASCEND' },
      limit: 1,
    });
    if (!res.kvs.length) throw new NoLeaderElectedError(`election ${this.prefix} has no leader`);
    return leaderOf(res.kvs[0]);
  }

  /** Every leader (and every proclaimed value) from now on, until the iterator is returned. */
  observe(): AsyncIterableIterator<Leader> {
    const ctl = new AbortController();
    const out = new AsyncQueue<Leader>(() => ctl.abort());
    observeLoop(this.client, this.prefix, out, ctl.signal).then(
      () => out.end(),
      (e) => out.end(ctl.signal.aborted ? undefined : e),
    );
    return out;
  }
}

async function observeLoop(
  client: CairnClient,
  prefix: string,
  out: AsyncQueue<Leader>,
  signal: AbortSignal,
): Promise<void> {
  while (!signal.aborted) {
    const res = await client.kv.prefix(prefix, { sort: { target: 'CREATE', order: 'ASCEND' }, limit: 1 });
    let rev = res.header.revision + 1;
    let leader: KeyValue | undefined = res.kvs[0];
    if (!leader) {
      // Wait for the first candidate to appear.
      const w = client.watch(prefix, { prefix: true, startRevision: rev, filters: ['nodelete'] });
      leader = await untilAborted(w, signal, async () => {
        for await (const ev of w) return ev.kv;
        return undefined;
      });
      if (!leader) return;
      rev = leader.modRevision + 1;
    }
    out.push(leaderOf(leader));
    // Follow the leader key: proclamations until it is deleted.
    const w = client.watch(leader.key, { startRevision: rev });
    await untilAborted(w, signal, async () => {
      for await (const ev of w) {
        if (ev.type === 'delete') return;
        out.push(leaderOf(ev.kv));
      }
    });
  }
}

/** Runs `fn` over watcher `w`, cancelling the watch when `signal` aborts and when `fn` is done. */
async function untilAborted<T>(w: Watcher, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  const cancel = () => void w.cancel();
  signal.addEventListener('abort', cancel, { once: true });
  try {
    return await fn();
  } finally {
    signal.removeEventListener('abort', cancel);
    await w.cancel();
  }
}
