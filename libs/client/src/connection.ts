// Channels to every endpoint, the auth token, and the one place unary calls are sent, retried or failed.
import * as grpc from '@grpc/grpc-js';
import {
  AbortError,
  AuthError,
  CairnError,
  ConnectionError,
  DeadlineExceededError,
  InvalidAuthTokenError,
  UnknownOutcomeError,
  fromServiceError,
  neverApplied,
  transient,
} from './errors';
import { CallOptions, ClientOptions } from './options';
import { ServiceName, etcdServices } from './proto';

/** Whether a call may be sent again after a failure whose outcome is unknown. */
export type Safety = 'idempotent' | 'mutating';

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((ok) => {
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      ok();
    }
  });

export class Connection {
  private readonly credentials: grpc.ChannelCredentials;
  private readonly channelOptions: grpc.ChannelOptions;
  /** Clients per endpoint and service; they share the endpoint's channel. */
  private readonly clients = new Map<string, grpc.Client>();
  private next = 0;
  /** The auth token; null while the server has authentication disabled. */
  private token?: Promise<string | null>;
  private closed = false;

  constructor(readonly options: ClientOptions) {
    if (options.endpoints.length === 0) throw new CairnError('at least one endpoint is required');
    const tls = options.tls;
    this.credentials = tls
      ? grpc.credentials.createSsl(tls.rootCA ?? null, tls.key ?? null, tls.cert ?? null)
      : grpc.credentials.createInsecure();
    this.channelOptions = {
      'grpc.keepalive_time_ms': options.keepAlive?.timeMs ?? 30_000,
      'grpc.keepalive_timeout_ms': options.keepAlive?.timeoutMs ?? 10_000,
      // Pings only while calls or streams are open: etcd answers idle pings with GOAWAY too_many_pings.
      'grpc.keepalive_permit_without_calls': 0,
      'grpc.max_receive_message_length': -1,
      ...(tls?.serverName ? { 'grpc.ssl_target_name_override': tls.serverName } : {}),
      ...options.channelOptions,
    };
  }

  get endpoints(): string[] {
    return this.options.endpoints;
  }

  /** The endpoint the next call goes to; successive calls rotate over the endpoints. */
  pickEndpoint(): string {
    const eps = this.options.endpoints;
    return eps[this.next++ % eps.length];
  }

  client(service: ServiceName, endpoint: string): grpc.Client & Record<string, any> {
    if (this.closed) throw new CairnError('client is closed');
    const key = `${service}@${endpoint}`;
    let c = this.clients.get(key);
    if (!c) {
      // Reusing one channel per endpoint: grpc-js shares subchannels with equal target and options.
      c = new (etcdServices()[service])(endpoint, this.credentials, this.channelOptions);
      this.clients.set(key, c);
    }
    return c as grpc.Client & Record<string, any>;
  }

  /** Call metadata: the auth token when the client authenticates. */
  async metadata(endpoint: string): Promise<grpc.Metadata> {
    const md = new grpc.Metadata();
    const token = this.options.auth ? await this.authToken(endpoint) : null;
    if (token !== null) md.set('token', token);
    return md;
  }

  /** Forgets the token so the next call authenticates again (after "invalid auth token"). */
  invalidateToken(): void {
    this.token = undefined;
  }

  private authToken(endpoint: string): Promise<string | null> {
    if (!this.token) {
      const { username: name, password } = this.options.auth!;
      // Shared by every call waiting for a token, so no single caller's AbortSignal cancels it.
      const p = this.send<any>('Auth', 'Authenticate', endpoint, { name, password }, new grpc.Metadata(), {
        deadline: Date.now() + (this.options.defaultTimeoutMs ?? 30_000),
      }).then(
        (res) => res.token as string,
        // With authentication disabled calls need no token; one is fetched again once it is enabled.
        (e) => (e instanceof AuthError && e.message === AUTH_NOT_ENABLED ? null : Promise.reject(e)),
      );
      this.token = p;
      p.catch(() => this.token === p && (this.token = undefined));
    }
    return this.token;
  }

  /**
   * Sends a unary call, failing over to the next endpoint while retrying is safe: always when the
   * request provably never took effect, and for idempotent calls on any transient failure. A mutating
   * call whose outcome is unknown fails with UnknownOutcomeError.
   */
  async unary<T>(
    service: ServiceName,
    method: string,
    request: object,
    safety: Safety,
    opts: CallOptions = {},
  ): Promise<T> {
    const deadline = Date.now() + (opts.timeoutMs ?? this.options.defaultTimeoutMs ?? 30_000);
    let refreshedToken = false;
    for (let attempt = 0; ; attempt++) {
      if (opts.signal?.aborted)
        throw new AbortError('aborted', grpc.status.CANCELLED, { cause: opts.signal.reason });
      const endpoint = this.pickEndpoint();
      let err: CairnError;
      let sent = false;
      try {
        const md = await this.metadata(endpoint);
        sent = true;
        return await this.send<T>(service, method, endpoint, request, md, { signal: opts.signal, deadline });
      } catch (e) {
        err = e instanceof CairnError ? e : new CairnError(String(e), undefined, { cause: e });
        if (!sent && !(err instanceof ConnectionError || transient(err))) throw err; // authentication failed
      }
      if (this.options.auth && !refreshedToken && staleToken(err)) {
        refreshedToken = true; // the server rejected the call before doing anything
        this.invalidateToken();
        continue;
      }
      const retriable = !sent || neverApplied(err) || (safety === 'idempotent' && transient(err));
      if (!retriable) {
        if (safety === 'mutating' && sent && (err instanceof AbortError || outcomeUnknown(err)))
          throw new UnknownOutcomeError(`outcome of ${service}.${method} unknown: ${err.message}`, err.code, {
            cause: err,
          });
        throw err;
      }
      const backoff = Math.min(25 * 2 ** Math.floor(attempt / this.options.endpoints.length), 1000);
      if (Date.now() + backoff >= deadline)
        throw new DeadlineExceededError(
          `${service}.${method}: deadline exceeded after ${attempt + 1} attempts`,
          grpc.status.DEADLINE_EXCEEDED,
          { cause: err },
        );
      if (attempt % this.options.endpoints.length === this.options.endpoints.length - 1)
        await sleep(backoff, opts.signal);
    }
  }

  private send<T>(
    service: ServiceName,
    method: string,
    endpoint: string,
    request: object,
    md: grpc.Metadata,
    opts: { signal?: AbortSignal; deadline: number },
  ): Promise<T> {
    return new Promise<T>((ok, fail) => {
      const client = this.client(service, endpoint);
      const call = client[method](
        request,
        md,
        { deadline: opts.deadline },
        (e: grpc.ServiceError | null, res: T) => {
          opts.signal?.removeEventListener('abort', onAbort);
          if (e)
            fail(
              opts.signal?.aborted ? new AbortError('aborted', e.code, { cause: e }) : fromServiceError(e),
            );
          else ok(res);
        },
      ) as grpc.ClientUnaryCall;
      const onAbort = () => call.cancel();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  close(): void {
    this.closed = true;
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}

const AUTH_NOT_ENABLED = 'etcdserver: authentication is not enabled';

/**
 * The server rejected the call (before doing anything) because of the token it carried or lacked,
 * or because the member resolved it before applying a permission change (etcd's Go client logs in
 * again and retries then too).
 */
function staleToken(err: CairnError): boolean {
  return (
    err instanceof InvalidAuthTokenError ||
    err.message === AUTH_NOT_ENABLED ||
    err.message === 'etcdserver: user name is empty' ||
    err.message === 'etcdserver: revision of auth store is old'
  );
}

/** Failures after which a sent write may or may not have been applied. */
function outcomeUnknown(err: CairnError): boolean {
  return (
    err instanceof ConnectionError ||
    err instanceof DeadlineExceededError ||
    err.name === 'RequestTimeoutError' ||
    err.name === 'LeaderChangedError'
  );
}
