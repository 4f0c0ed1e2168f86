/** How a CairnClient connects; only `endpoints` is required. */
export interface ClientOptions {
  /** host:port of every member; calls fail over between them. */
  endpoints: string[];
  /** TLS: the CA that signed the members' certificates, and optionally a client certificate. */
  tls?: { rootCA?: Buffer; cert?: Buffer; key?: Buffer; serverName?: string };
  /** Username/password authentication; the token is fetched and refreshed automatically. */
  auth?: { username: string; password: string };
  /** Prefix added to every key this client reads, writes and watches, and stripped from results. */
  namespace?: string | Buffer;
  /** Default deadline of a unary call (including its retries), in ms. Default 30000. */
  defaultTimeoutMs?: number;
  /** gRPC keep-alive ping interval and the time to wait for its ack, in ms. Defaults 30000 / 10000. */
  keepAlive?: { timeMs?: number; timeoutMs?: number };
  /** Extra gRPC channel options. */
  channelOptions?: Record<string, string | number>;
}

/** Per-call options every operation accepts. */
export interface CallOptions {
  /** Deadline for this call (including retries), in ms from now. */
  timeoutMs?: number;
  /** Aborts the call. */
  signal?: AbortSignal;
}
