import { DriverStoppedError, RaftDriver } from '../../consensus/src';
import { Entry, EntryType, ProposalDroppedError } from '../../raft/src';
import { Engine } from '../../storage/src';
import { AppliedEntry, Applier, ApplyResult } from './applier';
import { Errors } from './etcd-errors';
import { InternalRequest, decodeInternalRequest, encodeInternalRequest } from './internal-request';
import { Logger } from './logger';
import { Proposer } from './proposer';

export interface RaftProposerOptions {
  memberId: bigint;
  maxRequestBytes: number;
  heartbeatIntervalMs: number;
  electionTimeoutMs: number;
  /** This member became leader (true) or stopped being leader (false). */
  onLeadershipChange?: (leading: boolean) => void;
  logger: Logger;
}

interface Waiter {
  request: InternalRequest;
  resolve: (r: ApplyResult) => void;
  reject: (e: unknown) => void;
}

/**
 * The write path through Raft: a request is proposed with a unique id inside its entry, and
 * its waiter is found again by that id when the entry is applied (as etcd does), since the
 * entry's index is only known once the leader appends it. Committed entries are applied by
 * the Applier; entries without a request (a new leader's empty entry, conf changes) only
 * advance the applied index.
 */
export class RaftProposer implements Proposer {
  /** Requests proposed here and not applied yet. */
  private readonly waiters = new Set<Waiter>();
  /**
   * The same, by their entry's payload: a leader's log hands back the very bytes it was given,
   * so the apply step finds the waiter, and the request as proposed, without decoding. (A
   * follower's proposals come back through the network; matching them by the id in the entry
   * comes with multi-member clusters.)
   */
  private readonly local = new WeakMap<Uint8Array, Waiter>();
  // The next id's 32-bit halves (a Long for protobufjs: a decimal string costs a parse).
  private idHigh: number;
  private idLow: number;
  private stopped = false;
  private driver!: RaftDriver;

  private constructor(
    private readonly applier: Applier,
    private readonly opts: RaftProposerOptions,
  ) {
    // etcd's id generator: the member id's low 16 bits, then milliseconds, then a counter, so
    // ids never repeat across members or restarts.
    const ms = BigInt(Date.now()) & ((1n << 40n) - 1n);
    const first = ((opts.memberId & 0xffffn) << 48n) | (ms << 8n);
    this.idHigh = Number(first >> 32n);
    this.idLow = Number(first & 0xffffffffn);
  }

  /** Opens the Raft log (bootstrapping a cluster of one on first start) and waits to serve. */
  static async open(engine: Engine, applier: Applier, opts: RaftProposerOptions): Promise<RaftProposer> {
    const proposer = new RaftProposer(applier, opts);
    proposer.driver = await RaftDriver.open({
      id: opts.memberId,
      engine,
      bootstrapVoters: [opts.memberId],
      applied: BigInt(applier.appliedIndex),
      apply: (entries) => proposer.apply(entries),
      heartbeatMs: opts.heartbeatIntervalMs,
      electionMs: opts.electionTimeoutMs,
      onLeadershipChange: opts.onLeadershipChange,
      // Accepted proposals wait for their apply, which will not come now.
      onFailure: () => proposer.failWaiters(),
      logger: opts.logger,
    });
    try {
      await proposer.driver.whenReady();
    } catch (err) {
      await proposer.driver.stop();
      throw err;
    }
    return proposer;
  }

  get term(): bigint {
    return this.driver.term;
  }
  get commitIndex(): number {
    return Number(this.driver.commitIndex);
  }
  get appliedIndex(): number {
    return this.applier.appliedIndex;
  }
  get leaderId(): bigint {
    return this.driver.leaderId;
  }

  propose(request: Omit<InternalRequest, 'id'>): Promise<ApplyResult> {
    if (this.stopped) return Promise.reject(Errors.stopped());
    const full: InternalRequest = { id: this.nextIdLong(), ...request };
    const data = encodeInternalRequest(full);
    if (data.length > this.opts.maxRequestBytes) return Promise.reject(Errors.requestTooLarge());
    return new Promise((resolve, reject) => {
      const waiter = { request: full, resolve, reject };
      this.waiters.add(waiter);
      this.local.set(data, waiter);
      this.driver.submit(data, (err) => {
        if (this.waiters.delete(waiter)) reject(toEtcdError(err));
      });
    });
  }

  readIndex(): Promise<void> {
    if (this.stopped) return Promise.reject(Errors.stopped());
    return this.driver.readIndex().then(
      () => undefined,
      (err) => Promise.reject(toEtcdError(err)),
    );
  }

  private nextIdLong(): { low: number; high: number; unsigned: boolean } {
    const id = { low: this.idLow | 0, high: this.idHigh | 0, unsigned: true };
    if (++this.idLow > 0xffffffff) {
      this.idLow = 0;
      this.idHigh = (this.idHigh + 1) >>> 0;
    }
    return id;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.driver.stop();
    this.failWaiters();
  }

  private failWaiters(): void {
    for (const w of this.waiters) w.reject(Errors.stopped());
    this.waiters.clear();
  }

  private apply(entries: Entry[]): void {
    const batch: AppliedEntry[] = new Array(entries.length);
    const owners: (Waiter | undefined)[] = new Array(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      let request: InternalRequest | undefined;
      if (e.type === EntryType.Normal && e.data.length > 0) {
        owners[i] = this.local.get(e.data);
        request = owners[i]?.request ?? decodeInternalRequest(e.data);
      }
      batch[i] = { index: Number(e.index), request };
    }
    const results = this.applier.applyBatch(batch);
    for (let i = 0; i < entries.length; i++) {
      const waiter = owners[i];
      // No waiter: proposed before a restart (or elsewhere), or already failed.
      if (waiter && this.waiters.delete(waiter)) waiter.resolve(results[i]);
    }
  }
}

/** Maps consensus failures to the errors etcd gives clients. */
function toEtcdError(err: unknown): unknown {
  if (err instanceof DriverStoppedError) return Errors.stopped();
  if (err instanceof ProposalDroppedError) {
    return err.reason === 'leader changed' ? Errors.leaderChanged() : Errors.noLeader();
  }
  return err;
}
