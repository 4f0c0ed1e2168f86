// Service discovery: instances register under a session lease, so a dead process leaves the live set
// within its TTL; readers discover the set or follow it as a stream.
import { EventEmitter } from 'node:events';
import { AsyncQueue, CairnClient, WatchEvent, Watcher } from '../../client/src';
import { Session } from './session';

export interface ServiceInstance {
  service: string;
  instance: string;
  address: string;
  metadata: Record<string, unknown>;
}

export interface RegistryOptions {
  /** Key prefix of the registry (default "services/"). */
  prefix?: string;
  /** TTL in seconds of the sessions register() creates (default 10). */
  ttl?: number;
}

/** A live registration; emits 'lost' when its lease is lost (the instance is no longer listed). */
export class Registration extends EventEmitter {
  constructor(
    readonly instance: ServiceInstance,
    readonly key: string,
    private readonly session: Session,
    private readonly ownsSession: boolean,
  ) {
    super();
    session.once('lost', (e) => this.emit('lost', e));
  }

  /** Removes the instance from the registry (and ends the session register() created). */
  async deregister(): Promise<void> {
    await this.session.client.kv.delete(this.key);
    if (this.ownsSession) await this.session.close();
  }
}

export class ServiceRegistry {
  private readonly prefix: string;

  constructor(
    private readonly client: CairnClient,
    private readonly options: RegistryOptions = {},
  ) {
    this.prefix = options.prefix ?? 'services/';
  }

  private serviceKey(service: string): string {
    return `${this.prefix}${service}/`;
  }

  /** Lists the instance under its own session (or `session`, when given). */
  async register(instance: ServiceInstance, session?: Session): Promise<Registration> {
    const s = session ?? (await Session.create(this.client, { ttl: this.options.ttl ?? 10 }));
    const key = `${this.serviceKey(instance.service)}${instance.instance}`;
    await this.client.kv.put(key, JSON.stringify(instance), { lease: s.leaseId });
    return new Registration(instance, key, s, !session);
  }

  async discover(service: string): Promise<ServiceInstance[]> {
    const res = await this.client.kv.prefix(this.serviceKey(service));
    return res.kvs.map((kv) => JSON.parse(kv.valueString));
  }

  /** The live set now and after every change, until the iterator is returned. */
  watch(service: string): AsyncIterableIterator<ServiceInstance[]> {
    let watcher: Watcher | undefined;
    let stopped = false;
    const out = new AsyncQueue<ServiceInstance[]>(() => ((stopped = true), void watcher?.cancel()));
    const prefix = this.serviceKey(service);
    this.client.kv.prefix(prefix).then(
      (res) => {
        if (stopped) return;
        const live = new Map(
          res.kvs.map((kv) => [kv.keyString, JSON.parse(kv.valueString) as ServiceInstance]),
        );
        out.push([...live.values()]);
        watcher = this.client.watch(prefix, { prefix: true, startRevision: res.header.revision + 1 });
        let scheduled = false;
        watcher.on('event', (ev: WatchEvent) => {
          if (ev.type === 'put') live.set(ev.kv.keyString, JSON.parse(ev.kv.valueString));
          else live.delete(ev.kv.keyString);
          // The events of one response (one revision) arrive in one synchronous burst: report the set once.
          if (!scheduled) {
            scheduled = true;
            queueMicrotask(() => ((scheduled = false), out.push([...live.values()])));
          }
        });
        watcher.once('closed', (err) => out.end(err));
      },
      (e) => out.end(e),
    );
    return out;
  }
}
