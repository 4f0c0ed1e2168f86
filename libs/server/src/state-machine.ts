import { SnapshotStaging } from '../../consensus/src';
import { Lessor } from '../../lease/src';
import { SnapshotMetadata } from '../../raft/src';
import { Engine, MvccStore } from '../../storage/src';
import { AlarmStore } from './alarms';
import { Applier } from './applier';
import { Membership } from './membership';

/** A module with state in the engine that must reload it after a snapshot replaced it. */
export type ReopenHook = () => void | Promise<void>;

/**
 * The replicated state machine's in-memory parts over the member's RocksDB, and the one path
 * that reopens them all when a snapshot replaces the data underneath: the MVCC key index and
 * revisions, the lessor, the alarms, the member list, the applied index, then every hook
 * registered with `onReopen` (a stateful module added later plugs in there: the watch hub tells
 * its watchers to re-sync, auth reloads its users and roles).
 *
 * While a snapshot is installed, `replacing` is a promise: reads must wait for it, as the
 * engine and the structures in memory disagree until it resolves. No write runs meanwhile (the
 * install happens inside the Raft Ready loop, which is also the apply loop).
 */
export class StateMachine {
  private replacingNow: Promise<void> | undefined;
  private readonly hooks: ReopenHook[] = [];

  constructor(
    private readonly engine: Engine,
    readonly store: MvccStore,
    readonly lessor: Lessor,
    readonly alarms: AlarmStore,
    readonly membership: Membership,
    readonly applier: Applier,
  ) {}

  /** Set while a snapshot is being installed: resolves once the state machine serves again. */
  get replacing(): Promise<void> | undefined {
    return this.replacingNow;
  }

  onReopen(hook: ReopenHook): void {
    this.hooks.push(hook);
  }

  /** Replaces the state with the staged image of `metadata` (see SnapshotStaging) and reopens. */
  async install(staging: SnapshotStaging, metadata: SnapshotMetadata): Promise<void> {
    let done!: () => void;
    this.replacingNow = new Promise((ok) => (done = ok));
    try {
      // A physical compaction running now would delete records under the new image.
      await this.store.idle();
      await staging.install(metadata);
      await this.reopen();
    } finally {
      this.replacingNow = undefined;
      done();
    }
  }

  /** Reloads every in-memory structure from the engine. */
  private async reopen(): Promise<void> {
    await this.store.reload();
    await this.lessor.reload(this.engine, this.store);
    await this.alarms.reload(this.engine);
    const members = Membership.load(this.engine);
    if (members) this.membership.replaceWith(members);
    this.applier.reload();
    for (const hook of this.hooks) await hook();
  }
}
