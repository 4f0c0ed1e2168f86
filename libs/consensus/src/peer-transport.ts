import * as grpc from '@grpc/grpc-js';
import { Message, MessageType, SnapshotStatus, decodeMessage, encodeMessage } from '../../raft/src';
import {
  CLUSTER_ID_HEADER,
  CallRequestMessage,
  SnapshotChunkMessage,
  MEMBER_ID_HEADER,
  MembersAnswer,
  PEER_SERVICE,
  PeerClient,
  peerTarget,
} from './peer-protocol';
import { ConsensusLogger } from './raft-driver';
import { SnapshotStaging } from './snapshot-staging';
import { receiveSnapshot, sendSnapshot } from './snapshot-transfer';
import { TlsMaterial, channelCredentials, serverCredentials } from './tls-credentials';

export interface PeerListener {
  host: string;
  port: number;
  /** An https:// listener: served with `PeerTransportOptions.tls`, never in plain text. */
  tls?: boolean;
}

/** Where the transport hands what it received and what it could not deliver. */
export interface PeerTransportSink {
  /** Raft messages received from peers, in the order each peer sent them. */
  deliver(messages: Message[]): void;
  /** A message to `id` was dropped (queue full, stream down): Raft falls back to probing it. */
  reportUnreachable(id: bigint): void;
  /**
   * A snapshot message whose image is staged (see SnapshotStaging): true if Raft took it and
   * will install it, false if it ignored it.
   */
  deliverSnapshot?(m: Message): boolean;
  /** The outcome of sending a snapshot message to `id`. */
  reportSnapshot(id: bigint, status: SnapshotStatus): void;
  /** A peer refused this member as one removed from the cluster. */
  removed?(): void;
}

export interface PeerTransportOptions {
  memberId: bigint;
  clusterId: bigint;
  /** --listen-peer-urls, parsed. Port 0 binds a free port (see `ports`). */
  listen: PeerListener[];
  /** The other members: id -> peer URLs. */
  peers: Map<bigint, string[]>;
  sink: PeerTransportSink;
  /** The member list Peer.Members serves (encoded by the caller's layer). */
  members?: () => Uint8Array;
  /** Where Peer.Snapshot stages what it receives (refused when absent). */
  snapshots?: SnapshotStaging;
  /** Peer TLS: for https:// listeners, and presented to peers with https:// URLs. */
  tls?: TlsMaterial;
  /** Messages queued per peer before new ones are dropped (etcd's stream buffer is 4096). */
  queueLimit?: number;
  /** How long a snapshot transfer may wait on its follower (default SNAPSHOT_STALL_MS). */
  snapshotStallMs?: number;
  /** Whether `id` was removed from the cluster: its calls are refused, as etcd's (410 Gone). */
  isRemoved?: (id: bigint) => boolean;
  logger?: ConsensusLogger;
}

/** A handler for Peer.Call: the payload in, the answer out; a thrown error goes back to the caller. */
export type CallHandler = (payload: Buffer, from: bigint) => Promise<Uint8Array>;

/** A Peer.Call failed: `code` is the gRPC status (a handler's `code` if it threw one). */
export class PeerCallError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'PeerCallError';
  }
}

const silent: ConsensusLogger = { info() {}, warn() {}, error() {} };
/** What a removed member is told when it calls a member of the cluster (etcd's wording). */
export const MEMBER_REMOVED = 'the member has been permanently removed from the cluster';
const REMOVED_REFUSAL: Partial<grpc.StatusObject> = {
  code: grpc.status.PERMISSION_DENIED,
  details: MEMBER_REMOVED,
};
const MIN_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 1000;
/** A stream that lived this long was healthy: its successor starts with the shortest backoff. */
const HEALTHY_STREAM_MS = 1000;

/**
 * Member-to-member transport over gRPC (proto/cairn/peer.proto): a server on the peer listeners,
 * one long-lived outgoing stream per peer carrying batches of raft messages, bounded per-peer
 * queues, reconnection with backoff, and a cluster-id check on every incoming call.
 */
export class PeerTransport {
  // Peers are trusted (cluster-id checked): a batch or snapshot chunk may exceed gRPC's 4 MiB
  // default, e.g. a chunk holding one value near a raised --max-request-bytes.
  private readonly server = new grpc.Server({ 'grpc.max_receive_message_length': -1 });
  private readonly links = new Map<bigint, PeerLink>();
  private readonly handlers = new Map<string, CallHandler>();
  private readonly logger: ConsensusLogger;
  private readonly metadata: grpc.Metadata;
  private boundPorts: number[] = [];
  private stopped = false;

  private constructor(private readonly opts: PeerTransportOptions) {
    this.logger = opts.logger ?? silent;
    this.metadata = new grpc.Metadata();
    this.metadata.set(CLUSTER_ID_HEADER, opts.clusterId.toString());
    this.metadata.set(MEMBER_ID_HEADER, opts.memberId.toString());
    for (const [id, urls] of opts.peers) this.addPeer(id, urls);
  }

  /** Binds every peer listener and starts serving. */
  static async start(opts: PeerTransportOptions): Promise<PeerTransport> {
    const t = new PeerTransport(opts);
    t.server.addService(PEER_SERVICE, {
      Stream: (call: grpc.ServerReadableStream<Uint8Array[], object>, cb: grpc.sendUnaryData<object>) =>
        t.serveStream(call, cb),
      Call: (
        call: grpc.ServerUnaryCall<CallRequestMessage, Uint8Array>,
        cb: grpc.sendUnaryData<Uint8Array>,
      ) => void t.serveCall(call, cb),
      Members: (_call: grpc.ServerUnaryCall<object, MembersAnswer>, cb: grpc.sendUnaryData<MembersAnswer>) =>
        opts.members
          ? cb(null, { clusterId: opts.clusterId, members: opts.members() })
          : cb({ code: grpc.status.UNIMPLEMENTED, details: 'no member list here' }),
      Snapshot: (
        call: grpc.ServerReadableStream<SnapshotChunkMessage, object>,
        cb: grpc.sendUnaryData<object>,
      ) => t.serveSnapshot(call, cb),
    });
    try {
      for (const l of opts.listen) {
        const host = l.host.includes(':') ? `[${l.host}]` : l.host;
        const credentials = listenerCredentials(l, opts.tls);
        const port = await new Promise<number>((ok, fail) =>
          t.server.bindAsync(`${host}:${l.port}`, credentials, (err, p) =>
            err ? fail(new Error(`cannot listen for peers on ${host}:${l.port}: ${err.message}`)) : ok(p),
          ),
        );
        t.boundPorts.push(port);
      }
    } catch (err) {
      t.server.forceShutdown();
      throw err;
    }
    return t;
  }

  /** The ports bound, in the order of `listen`. */
  get ports(): number[] {
    return this.boundPorts;
  }

  get peerIds(): bigint[] {
    return [...this.links.keys()];
  }

  /** Starts (or replaces) the link to a peer. */
  addPeer(id: bigint, urls: string[]): void {
    if (id === this.opts.memberId) return;
    this.links.get(id)?.close();
    this.links.set(id, new PeerLink(id, urls, this.metadata, this.opts, this.logger));
  }

  removePeer(id: bigint): void {
    this.links.get(id)?.close();
    this.links.delete(id);
  }

  /**
   * Since when (Date.now()) this member has been connected to peer `id` without a break, or 0
   * when it is not connected: etcd's ActiveSince, for its health checks before reconfiguring.
   */
  activeSince(id: bigint): number {
    return this.links.get(id)?.activeSince ?? 0;
  }

  /** Queues raft messages for their peers; each peer's queue goes out as one batch per turn. */
  send(messages: Message[]): void {
    for (const m of messages) {
      const link = this.links.get(m.to);
      if (link) link.enqueue(m);
      else this.logger.warn('dropped a raft message to an unknown member', { to: m.to.toString(16) });
    }
  }

  /**
   * Streams a snapshot to its follower (Peer.Snapshot): `m` (type Snap) with the metadata of
   * `image`, the records of the state machine at that index. Reports the outcome to Raft.
   */
  sendSnapshot(m: Message, image: AsyncGenerator<[Buffer, Buffer][]>): void {
    const link = this.links.get(m.to);
    if (!link || this.stopped) {
      void image.return(undefined);
      this.opts.sink.reportSnapshot(m.to, SnapshotStatus.Failure);
      return;
    }
    void link.sendSnapshot(m, image);
  }

  /** Registers the handler Peer.Call runs for `method` on this member. */
  handle(method: string, handler: CallHandler): void {
    this.handlers.set(method, handler);
  }

  /** Calls `method` on member `to`; rejects with PeerCallError (UNAVAILABLE if unreachable). */
  call(to: bigint, method: string, payload: Uint8Array, timeoutMs: number): Promise<Buffer> {
    const link = this.links.get(to);
    if (!link)
      return Promise.reject(new PeerCallError(grpc.status.UNAVAILABLE, `unknown member ${to.toString(16)}`));
    return link.call(method, payload, timeoutMs);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const link of this.links.values()) link.close();
    this.links.clear();
    await new Promise<void>((ok) => {
      const force = setTimeout(() => this.server.forceShutdown(), 1000);
      this.server.tryShutdown(() => (clearTimeout(force), ok()));
    });
  }

  /** The refusal of a call from this metadata (logged here), if it is refused. */
  private refusal(md: grpc.Metadata): Partial<grpc.StatusObject> | undefined {
    const cluster = md.get(CLUSTER_ID_HEADER)[0];
    const from = String(md.get(MEMBER_ID_HEADER)[0] ?? '?');
    let why: string | undefined;
    if (cluster === undefined) why = `peer call without a cluster id from member ${from}`;
    else if (String(cluster) !== this.opts.clusterId.toString()) {
      why =
        `refused a peer from another cluster: member ${hex(from)} belongs to cluster ${hex(String(cluster))}, ` +
        `this member to cluster ${this.opts.clusterId.toString(16)}`;
    }
    if (why) {
      this.logger.error(why);
      return { code: grpc.status.FAILED_PRECONDITION, details: `cairn: cluster ID mismatch: ${why}` };
    }
    if (this.opts.isRemoved?.(decimalId(from))) {
      this.logger.warn('rejected a call from a removed member', { peer: hex(from) });
      return REMOVED_REFUSAL;
    }
    return undefined;
  }

  private serveStream(call: grpc.ServerReadableStream<Uint8Array[], object>, cb: grpc.sendUnaryData<object>) {
    const refused = this.refusal(call.metadata);
    if (refused) return cb(refused);
    const me = this.opts.memberId;
    const from = decimalId(String(call.metadata.get(MEMBER_ID_HEADER)[0] ?? '0'));
    // The peer is up: a link to it waiting out a backoff reconnects now.
    this.links.get(from)?.wake();
    let ended = false;
    call.on('data', (batch: Uint8Array[]) => {
      if (this.stopped || ended) return;
      // Removed while its stream was open: the peer may never hear that its removal committed
      // (the leader stops replicating to it), so the refusal is what tells it to stop.
      if (this.opts.isRemoved?.(from)) {
        ended = true;
        this.logger.warn('closed the stream of a removed member', { peer: from.toString(16) });
        return cb(REMOVED_REFUSAL);
      }
      const messages: Message[] = [];
      for (const raw of batch) {
        const m = decodeMessage(raw);
        // A snapshot's data comes only through Peer.Snapshot, staged before Raft sees it.
        if (m.to === me && m.type !== MessageType.Snap) messages.push(m);
      }
      if (messages.length > 0) this.opts.sink.deliver(messages);
    });
    call.on('end', () => ended || cb(null, {}));
    call.on('error', () => undefined);
  }

  private serveSnapshot(
    call: grpc.ServerReadableStream<SnapshotChunkMessage, object>,
    cb: grpc.sendUnaryData<object>,
  ): void {
    const refused = this.refusal(call.metadata);
    if (refused) return cb(refused);
    const staging = this.opts.snapshots;
    if (!staging) {
      cb({ code: grpc.status.UNIMPLEMENTED, details: 'this member takes no snapshots' });
      return;
    }
    receiveSnapshot(call, staging, this.opts.memberId).then(
      (m) => {
        this.logger.info('received a snapshot', {
          from: m.from.toString(16),
          index: m.snapshot?.metadata.index.toString(),
        });
        // Taken: the image stays staged, and no other transfer may replace it, until installed.
        if (!this.stopped && this.opts.sink.deliverSnapshot?.(m)) staging.claim(m.snapshot!.metadata);
        cb(null, {});
      },
      (err: Error & { code?: number }) => {
        this.logger.warn('refused a snapshot', { error: err.message });
        cb({ code: err.code ?? grpc.status.ABORTED, details: err.message });
      },
    );
  }

  private async serveCall(
    call: grpc.ServerUnaryCall<CallRequestMessage, Uint8Array>,
    cb: grpc.sendUnaryData<Uint8Array>,
  ): Promise<void> {
    const refused = this.refusal(call.metadata);
    if (refused) return cb(refused);
    const { method, payload } = call.request;
    const handler = this.handlers.get(method);
    if (!handler) return cb({ code: grpc.status.UNIMPLEMENTED, details: `no peer handler for ${method}` });
    try {
      const from = BigInt(String(call.metadata.get(MEMBER_ID_HEADER)[0] ?? '0'));
      cb(null, await handler(Buffer.from(payload), from));
    } catch (err) {
      const code =
        typeof (err as { code?: unknown }).code === 'number'
          ? (err as { code: number }).code
          : grpc.status.UNKNOWN;
      cb({ code, details: err instanceof Error ? err.message : String(err) });
    }
  }
}

/** TLS for an https:// peer listener (an error without TLS material), plain text for http://. */
function listenerCredentials(l: PeerListener, tls: TlsMaterial | undefined): grpc.ServerCredentials {
  if (!l.tls) return grpc.ServerCredentials.createInsecure();
  if (!tls)
    throw new Error(`cannot listen on TLS for ${l.host}:${l.port}: KeyFile and CertFile are not presented`);
  return serverCredentials(tls);
}

/** How to reach a peer URL: TLS for https:// (whatever else is configured), plain text for http://. */
function urlCredentials(url: string, tls: TlsMaterial | undefined): grpc.ChannelCredentials {
  return new URL(url).protocol === 'https:' ? channelCredentials(tls) : grpc.credentials.createInsecure();
}

/**
 * Asks the member at `url` for its cluster id and member list (Peer.Members), as a member
 * joining an existing cluster does before it has an identity.
 */
export function fetchMembers(url: string, timeoutMs: number, tls?: TlsMaterial): Promise<MembersAnswer> {
  const client = new PeerClient(peerTarget(url), urlCredentials(url, tls)) as unknown as grpc.Client &
    Record<string, (...args: unknown[]) => void>;
  return new Promise<MembersAnswer>((ok, fail) => {
    client.Members(
      {},
      { deadline: new Date(Date.now() + timeoutMs) },
      (err: grpc.ServiceError | null, res: MembersAnswer) =>
        err ? fail(new PeerCallError(err.code, err.details)) : ok(res),
    );
  }).finally(() => client.close());
}

/** The outgoing side to one peer: a bounded queue drained into one long-lived stream. */
class PeerLink {
  /** None when no peer URL parses (MemberUpdate takes any, as etcd's does): the peer is unreachable. */
  private readonly client: (grpc.Client & Record<string, (...args: unknown[]) => unknown>) | undefined;
  private queue: Uint8Array[] = [];
  private stream: grpc.ClientWritableStream<Uint8Array[]> | undefined;
  private streamOpenedAt = 0;
  private draining = false;
  private flushScheduled = false;
  private retry: NodeJS.Timeout | undefined;
  private backoffMs = MIN_BACKOFF_MS;
  private down = false;
  /** A failure was logged and no stream has been healthy since: do not log every retry. */
  private warned = false;
  private closed = false;
  private sendingSnapshot = false;
  private readonly limit: number;
  /** When the connection to the peer last became ready; 0 while it is not (see PeerTransport.activeSince). */
  activeSince = 0;

  constructor(
    private readonly id: bigint,
    private readonly urls: string[],
    private readonly metadata: grpc.Metadata,
    private readonly opts: PeerTransportOptions,
    private readonly logger: ConsensusLogger,
  ) {
    this.limit = opts.queueLimit ?? 4096;
    const url = firstUsableUrl(urls);
    if (url === undefined) {
      logger.warn('no usable peer URL for a member: it cannot be reached', { to: id.toString(16), urls });
      return;
    }
    this.client = new PeerClient(peerTarget(url), urlCredentials(url, opts.tls), {
      'grpc.initial_reconnect_backoff_ms': MIN_BACKOFF_MS,
      'grpc.max_reconnect_backoff_ms': MAX_BACKOFF_MS,
      'grpc.max_send_message_length': -1,
      'grpc.max_receive_message_length': -1,
      // Raft resends whatever matters. grpc-js's retry layer would hold every message written
      // on a stream until the peer answers (it answers only when the stream ends), up to 1 MB.
      'grpc.enable_retries': 0,
    }) as never;
    this.followConnection();
  }

  /**
   * Keeps a connection to the peer whether or not there is traffic (followers rarely message
   * each other), and tracks since when it has been up.
   */
  private followConnection(): void {
    if (this.closed || !this.client) return;
    const channel = this.client.getChannel();
    const state = channel.getConnectivityState(true);
    if (state !== grpc.connectivityState.READY) this.activeSince = 0;
    else if (this.activeSince === 0) this.activeSince = Date.now();
    channel.watchConnectivityState(state, Infinity, () => this.followConnection());
  }

  enqueue(m: Message): void {
    if (this.closed) return;
    // While the peer is down or the queue is full, drop at once as etcd does: Raft probes again.
    if (!this.client || this.down || this.retry || this.queue.length >= this.limit) return this.dropped(m);
    this.queue.push(encodeMessage(m));
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  call(method: string, payload: Uint8Array, timeoutMs: number): Promise<Buffer> {
    const client = this.client;
    if (!client) return Promise.reject(new PeerCallError(grpc.status.UNAVAILABLE, 'no usable peer URL'));
    return new Promise((ok, fail) => {
      const deadline = new Date(Date.now() + timeoutMs);
      client.Call(
        { method, payload },
        this.metadata,
        { deadline },
        (err: grpc.ServiceError | null, res: Uint8Array) =>
          err ? fail(new PeerCallError(err.code, err.details)) : ok(Buffer.from(res)),
      );
    });
  }

  /** Streams one snapshot (see PeerTransport.sendSnapshot); one at a time per peer. */
  async sendSnapshot(m: Message, image: AsyncGenerator<[Buffer, Buffer][]>): Promise<void> {
    if (this.sendingSnapshot || this.closed || !this.client) {
      void image.return(undefined);
      this.opts.sink.reportSnapshot(this.id, SnapshotStatus.Failure);
      return;
    }
    this.sendingSnapshot = true;
    try {
      const records = await sendSnapshot(this.client, this.metadata, m, image, {
        stallMs: this.opts.snapshotStallMs,
      });
      this.logger.info('sent a snapshot', {
        peer: this.id.toString(16),
        index: m.snapshot?.metadata.index.toString(),
        records,
      });
      this.opts.sink.reportSnapshot(this.id, SnapshotStatus.Finish);
    } catch (err) {
      this.logger.warn('failed to send a snapshot', { peer: this.id.toString(16), error: String(err) });
      this.opts.sink.reportSnapshot(this.id, SnapshotStatus.Failure);
    } finally {
      this.sendingSnapshot = false;
    }
  }

  /** Reconnects at once if waiting out a backoff. */
  wake(): void {
    if (!this.retry || this.closed) return;
    clearTimeout(this.retry);
    this.retry = undefined;
    this.down = false;
    this.backoffMs = MIN_BACKOFF_MS;
    this.open();
  }

  close(): void {
    this.closed = true;
    this.activeSince = 0;
    clearTimeout(this.retry);
    this.stream?.end();
    this.stream = undefined;
    this.client?.close();
  }

  private dropped(m: Message): void {
    if (m.type === MessageType.Snap) this.opts.sink.reportSnapshot(this.id, SnapshotStatus.Failure);
    this.opts.sink.reportUnreachable(this.id);
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.draining || this.queue.length === 0) return;
    const stream = this.stream ?? this.open();
    const batch = this.queue;
    this.queue = [];
    if (!stream.write(batch)) {
      this.draining = true;
      stream.once('drain', () => {
        this.draining = false;
        this.flush();
      });
    }
  }

  /** Only once a message is queued, which takes a client. */
  private open(): grpc.ClientWritableStream<Uint8Array[]> {
    const stream = this.client!.Stream(this.metadata, (err: grpc.ServiceError | null) =>
      this.onStreamEnd(stream, err),
    ) as grpc.ClientWritableStream<Uint8Array[]>;
    this.stream = stream;
    this.streamOpenedAt = Date.now();
    return stream;
  }

  private onStreamEnd(stream: grpc.ClientWritableStream<Uint8Array[]>, err: grpc.ServiceError | null): void {
    if (this.stream !== stream || this.closed) return;
    this.stream = undefined;
    this.draining = false;
    // Whatever was written to the failed stream may be lost: Raft resends what matters.
    this.opts.sink.reportUnreachable(this.id);
    const queued = this.queue;
    this.queue = [];
    if (queued.length > 0) this.opts.sink.reportUnreachable(this.id);
    if (Date.now() - this.streamOpenedAt >= HEALTHY_STREAM_MS) {
      this.backoffMs = MIN_BACKOFF_MS;
      this.warned = false;
    }
    if (err && isRemovedRefusal(err)) {
      // The cluster no longer has this member: no point retrying; the member stops.
      this.opts.sink.removed?.();
      return;
    }
    if (err) {
      const mismatch = err.code === grpc.status.FAILED_PRECONDITION;
      if (!this.warned || mismatch) {
        this.warned = true;
        const log = mismatch ? this.logger.error : this.logger.warn;
        log.call(this.logger, 'peer stream failed', {
          peer: this.id.toString(16),
          url: this.urls[0],
          error: err.details || err.message,
        });
      }
      this.down = true;
    }
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.down = false;
      this.open();
    }, this.backoffMs);
    this.retry.unref();
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
  }
}

function isRemovedRefusal(err: grpc.ServiceError): boolean {
  return err.code === grpc.status.PERMISSION_DENIED && err.details === MEMBER_REMOVED;
}

/** A member id from metadata (decimal); 0 (no member) when it does not parse. */
function decimalId(decimal: string): bigint {
  try {
    return BigInt(decimal);
  } catch {
    return 0n;
  }
}

function hex(decimal: string): string {
  try {
    return BigInt(decimal).toString(16);
  } catch {
    return decimal;
  }
}

/** The first peer URL that parses. */
function firstUsableUrl(urls: string[]): string | undefined {
  for (const url of urls) {
    try {
      peerTarget(url);
      return url;
    } catch {
      // not a URL: try the next
    }
  }
  return undefined;
}
