// CairnService: the recipes on one shared session, and everything the module starts, stopped on shutdown.
import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { CairnClient } from '../../client/src';
import {
  ConfigWatcher,
  ConfigWatcherOptions,
  Election,
  Mutex,
  Registration,
  ServiceInstance,
  ServiceRegistry,
  Session,
  StmOptions,
  StmTx,
  stm,
} from '../../recipes/src';
import { CAIRN_OPTIONS, CairnModuleOptions } from './tokens';

@Injectable()
export class CairnService implements OnApplicationShutdown {
  private readonly logger = new Logger('Cairn');
  private session?: Promise<Session>;
  readonly registry: ServiceRegistry;
  private readonly registrations = new Set<Registration>();
  private readonly elections = new Map<
    string,
    { election: Election; leading: boolean; campaign: AbortController }
  >();
  private readonly watchers = new Set<ConfigWatcher<object>>();
  /** Calls of one process for one lock queue here first: they share the session, hence the lock key. */
  private readonly localLocks = new Map<string, Promise<unknown>>();
  private closed = false;

  constructor(
    readonly client: CairnClient,
    @Inject(CAIRN_OPTIONS) private readonly options: CairnModuleOptions,
  ) {
    this.registry = new ServiceRegistry(client, {
      prefix: options.registryPrefix,
      ttl: options.sessionTtl ?? 10,
    });
  }

  /**
   * The module's session, granted on first use and kept alive until shutdown. When it is lost (a
   * partition longer than its TTL), the next use grants a new one: registrations are put back and
   * elections are joined again by the next @LeaderOnly call.
   */
  getSession(): Promise<Session> {
    if (!this.session) {
      const s = Session.create(this.client, { ttl: this.options.sessionTtl ?? 10 });
      this.session = s;
      s.then(
        (session) => session.once('lost', (e) => this.onSessionLost(s, e)),
        () => this.session === s && (this.session = undefined),
      );
    }
    return this.session;
  }

  private onSessionLost(lost: Promise<Session>, e: Error): void {
    this.logger.error(`session lost: ${e.message}`);
    if (this.session !== lost || this.closed) return;
    this.session = undefined;
    for (const entry of this.elections.values()) entry.campaign.abort();
    this.elections.clear();
    const instances = [...this.registrations].map((r) => r.instance);
    this.registrations.clear();
    for (const instance of instances)
      this.register(instance).catch((err) =>
        this.logger.error(`re-registering ${instance.instance}: ${err.message}`),
      );
  }

  async mutex(name: string): Promise<Mutex> {
    return new Mutex(await this.getSession(), name);
  }

  /** Runs `fn` holding lock `name`; concurrent calls in this process queue behind each other. */
  withLock<T>(name: string, fn: (fencingToken: number) => Promise<T> | T): Promise<T> {
    const before = this.localLocks.get(name) ?? Promise.resolve();
    const run = before.catch(() => undefined).then(async () => (await this.mutex(name)).withLock(fn));
    const tail = run.catch(() => undefined);
    this.localLocks.set(name, tail);
    tail.then(() => this.localLocks.get(name) === tail && this.localLocks.delete(name));
    return run;
  }

  stm<T>(fn: (tx: StmTx) => Promise<T>, options?: StmOptions): Promise<T> {
    return stm(this.client, fn, options);
  }

  /** Registers an instance under the module's session; deregistered on shutdown. */
  async register(instance: ServiceInstance): Promise<Registration> {
    const r = await this.registry.register(instance, await this.getSession());
    this.registrations.add(r);
    return r;
  }

  /** Starts campaigning (once per name) in the background; `isLeader(name)` tells when we lead. */
  joinElection(name: string, value: string): void {
    if (this.elections.has(name) || this.closed) return;
    const campaign = new AbortController();
    const entry = { election: undefined as unknown as Election, leading: false, campaign };
    this.elections.set(name, entry);
    void (async () => {
      const session = await this.getSession();
      entry.election = new Election(session, name);
      await entry.election.campaign(value, { signal: campaign.signal });
      entry.leading = true;
      session.once('lost', () => (entry.leading = false));
      this.logger.log(`leading election ${name}`);
    })().catch((e) => !campaign.signal.aborted && this.logger.error(`election ${name}: ${e.message}`));
  }

  isLeader(name: string): boolean {
    return this.elections.get(name)?.leading ?? false;
  }

  /** A started ConfigWatcher, closed on shutdown. */
  async watchConfig<T extends object>(
    options: ConfigWatcherOptions<T>,
    onChange: (value: T | undefined, key: string) => unknown,
  ): Promise<ConfigWatcher<T>> {
    const w = new ConfigWatcher<T>(this.client, options);
    w.on('change', (c) => onChange(c.value, c.key));
    w.on('invalid', (i) =>
      this.logger.warn(`invalid configuration at ${i.key} (revision ${i.revision}) not applied`),
    );
    w.on('error', (e) => this.logger.error(`configuration watch on ${options.key} stopped: ${e.message}`));
    this.watchers.add(w as ConfigWatcher<object>);
    return w.start();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.watchers) await w.close();
    for (const { election, campaign } of this.elections.values()) {
      campaign.abort();
      await election?.resign().catch(() => undefined);
    }
    for (const r of this.registrations) await this.client.kv.delete(r.key).catch(() => undefined);
    const session = await this.session?.catch(() => undefined);
    await session?.close().catch(() => undefined);
    this.client.close();
  }
}
