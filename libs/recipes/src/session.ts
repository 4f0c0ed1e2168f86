// Session: a lease kept alive in the background; the identity locks, elections and registrations hang on.
import { EventEmitter } from 'node:events';
import { CairnClient, Lease } from '../../client/src';
import { SessionExpiredError } from './errors';

export interface SessionOptions {
  /** Lease TTL in seconds (default 60): how long the session outlives its process. */
  ttl?: number;
  /** Use an existing lease (kept alive by its owner) instead of granting one. */
  lease?: Lease;
}

/** Emits 'lost' (a SessionExpiredError) once, when the lease expired or was revoked. */
export class Session extends EventEmitter {
  private lostError?: SessionExpiredError;
  private closed = false;

  private constructor(
    readonly client: CairnClient,
    readonly lease: Lease,
  ) {
    super();
    lease.once('lost', (cause) => {
      this.lostError = new SessionExpiredError(`session lease ${this.leaseHex} lost`, undefined, { cause });
      this.emit('lost', this.lostError);
    });
  }

  static async create(client: CairnClient, options: SessionOptions = {}): Promise<Session> {
    return new Session(client, options.lease ?? (await client.lease.grant(options.ttl ?? 60)));
  }

  get leaseId(): bigint {
    return this.lease.id;
  }

  /** The lease id as etcd's Go client prints it into lock and election keys (`%x`). */
  get leaseHex(): string {
    return this.lease.id.toString(16);
  }

  /** Resolves with the loss error the moment the session is lost (never, if it is closed first). */
  get done(): Promise<SessionExpiredError> {
    if (this.lostError) return Promise.resolve(this.lostError);
    return new Promise((ok) => this.once('lost', ok));
  }

  get isLost(): boolean {
    return this.lostError !== undefined;
  }

  /** Throws when the session is lost. */
  assertAlive(): void {
    if (this.lostError) throw this.lostError;
    if (this.closed) throw new SessionExpiredError('session closed');
  }

  /** Revokes the lease: every key of the session (locks held, registrations) goes at once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.lease.revoke();
  }
}
