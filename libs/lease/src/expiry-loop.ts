import { Lessor } from './lessor';

export interface ExpiryLoopOptions {
  /** How often the leader looks for expired leases (etcd: every 500 ms). */
  intervalMs?: number;
  /** At most this many revokes are proposed per second (etcd's leaseRevokeRate). */
  revokesPerSecond?: number;
}

/**
 * The leader's expiry check: periodically hands the lessor's expired leases to `revoke`
 * (which proposes their LeaseRevoke through the log), rate-limited so that a mass expiry
 * does not flood the log. On a follower the lessor reports none.
 */
export class ExpiryLoop {
  private readonly timer: NodeJS.Timeout;

  constructor(lessor: Lessor, revoke: (ids: bigint[]) => void, opts: ExpiryLoopOptions = {}) {
    const intervalMs = opts.intervalMs ?? 500;
    const perTick = Math.max(1, Math.floor(((opts.revokesPerSecond ?? 1000) * intervalMs) / 1000));
    this.timer = setInterval(() => {
      const ids = lessor.takeExpired(perTick);
      if (ids.length > 0) revoke(ids);
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
