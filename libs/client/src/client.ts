// CairnClient: the SDK's entry point.
import { AuthClient } from './auth';
import { ClusterClient } from './cluster';
import { Connection } from './connection';
import { KV } from './kv';
import { LeaseClient } from './lease';
import { MaintenanceClient } from './maintenance';
import { ClientOptions } from './options';
import { Bytes, Namespace } from './types';
import { WatchOptions, Watcher } from './watch';

export class CairnClient {
  readonly kv: KV;
  readonly lease: LeaseClient;
  readonly cluster: ClusterClient;
  readonly maintenance: MaintenanceClient;
  readonly auth: AuthClient;
  private readonly conn: Connection;
  private readonly ns: Namespace;
  private readonly watchers = new Set<Watcher>();

  constructor(readonly options: ClientOptions) {
    this.conn = new Connection(options);
    this.ns = new Namespace(options.namespace ?? '');
    this.kv = new KV(this.conn, this.ns);
    this.lease = new LeaseClient(this.conn);
    this.cluster = new ClusterClient(this.conn);
    this.maintenance = new MaintenanceClient(this.conn);
    this.auth = new AuthClient(this.conn, this.ns);
  }

  /** Watches a key, a prefix (`prefix: true`) or a range; see Watcher. */
  watch(key: Bytes, options?: WatchOptions): Watcher {
    const w = new Watcher(this.conn, this.ns, key, options);
    this.watchers.add(w);
    w.once('closed', () => this.watchers.delete(w));
    return w;
  }

  /** A client on the same endpoints whose keys all live under `prefix` (inside this client's namespace). */
  namespace(prefix: Bytes): CairnClient {
    return new CairnClient({ ...this.options, namespace: this.ns.key(prefix) });
  }

  /** Cancels every watch and closes the connections (leases stop being kept alive and expire after their TTL: revoke them first to end them at once). */
  close(): void {
    for (const w of this.watchers) void w.cancel();
    this.lease.stopAll();
    this.conn.close();
  }
}
