// Connections for the load generator. Every Conn is its own HTTP/2 connection.
//
// Three transports speak the same gRPC wire format:
// - 'frames' (the default): HTTP/2 frames written and parsed by the bench itself
//   (frame-conn.ts). It costs the generator a fraction of what node:http2 does per request,
//   which leaves the cores to the servers being measured.
// - 'h2': a minimal unary gRPC client on Node's http2 module (grpc-js's per-call machinery
//   left out); kept for cross-checking.
// - 'grpc-js': @grpc/grpc-js, the client most Node users have; kept for cross-checking.
import * as grpc from '@grpc/grpc-js';
import * as http2 from 'http2';
import { CallError, frame, unframe } from './grpc-message';
import { FrameConn } from './frame-conn';

export type Transport = 'frames' | 'h2' | 'grpc-js';
export const TRANSPORTS: readonly Transport[] = ['frames', 'h2', 'grpc-js'];

export interface Conn {
  readonly endpoint: string;
  /** Resolves once connected, so set-up is not counted as request latency. */
  ready(timeoutMs?: number): Promise<void>;
  /**
   * One unary call. `request` is the encoded message; `decode` turns the response message into
   * whatever the caller needs. `path` is e.g. "/etcdserverpb.KV/Put".
   */
  unary<R>(path: string, request: Buffer, decode: (b: Buffer) => R): Promise<R>;
  /** Sends this auth token (gRPC metadata `token`, as etcd clients do) with every later call. */
  useToken(token: string): void;
  close(): void;
}

export { CallError, frame, unframe };

export function openConn(transport: Transport, endpoint: string, index: number): Conn {
  if (transport === 'frames') return new FrameConn(endpoint);
  return transport === 'h2' ? new H2Conn(endpoint) : new GrpcJsConn(endpoint, index);
}

/** Opens `count` connections spread round-robin over the endpoints. */
export function openConns(transport: Transport, endpoints: string[], count: number, offset = 0): Conn[] {
  return Array.from({ length: count }, (_, i) =>
    openConn(transport, endpoints[(offset + i) % endpoints.length], offset + i),
  );
}

class GrpcJsConn implements Conn {
  private readonly client: grpc.Client;
  private metadata = new grpc.Metadata();

  constructor(
    readonly endpoint: string,
    index: number,
  ) {
    this.client = new grpc.Client(endpoint, grpc.credentials.createInsecure(), {
      // grpc-js pools subchannels process-wide by target and options; without a local pool
      // and a distinct option, all our "connections" would share one socket.
      'grpc.use_local_subchannel_pool': 1,
      'cairn.bench.conn': index,
      'grpc.enable_channelz': 0,
      'grpc.enable_retries': 0,
      'grpc.max_receive_message_length': -1,
    });
  }

  ready(timeoutMs = 10000): Promise<void> {
    return new Promise((resolve, reject) =>
      this.client.waitForReady(Date.now() + timeoutMs, (err) => (err ? reject(err) : resolve())),
    );
  }

  unary<R>(path: string, request: Buffer, decode: (b: Buffer) => R): Promise<R> {
    return new Promise((resolve, reject) =>
      this.client.makeUnaryRequest(path, identity, decode, request, this.metadata, (err, res) =>
        err ? reject(new CallError(err.code, err.details)) : resolve(res as R),
      ),
    );
  }

  useToken(token: string): void {
    this.metadata = new grpc.Metadata();
    this.metadata.set('token', token);
  }

  close(): void {
    this.client.close();
  }
}

const identity = (b: Buffer) => b;

class H2Conn implements Conn {
  private readonly session: http2.ClientHttp2Session;
  private failure: Error | undefined;
  private token: string | undefined;
  /** Request headers per method when a token is sent (else the shared cache below). */
  private readonly tokenHeaders = new Map<string, http2.OutgoingHttpHeaders>();

  constructor(readonly endpoint: string) {
    this.session = http2.connect(`http://${endpoint}`, {
      settings: { initialWindowSize: 4 << 20, enablePush: false },
    });
    // A session error fails the calls on it; without a listener it would crash the process.
    this.session.on('error', (e) => (this.failure = e));
    // The connection-wide receive window starts at 64 KiB; widen it so that many concurrent
    // large range responses are not throttled by flow control.
    this.session.once('connect', () => this.session.setLocalWindowSize(32 << 20));
  }

  ready(timeoutMs = 10000): Promise<void> {
    if (this.session.connecting === false && !this.failure) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`connect ${this.endpoint}: timed out`)), timeoutMs);
      this.session.once('connect', () => (clearTimeout(timer), resolve()));
      this.session.once('error', (e) => (clearTimeout(timer), reject(e)));
    });
  }

  unary<R>(path: string, request: Buffer, decode: (b: Buffer) => R): Promise<R> {
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      const stream = this.session.request(this.headersFor(path), { endStream: false });
      const chunks: Buffer[] = [];
      let status: string | undefined;
      let message = '';
      const noteStatus = (h: http2.IncomingHttpHeaders) => {
        if (h['grpc-status'] === undefined) return;
        status = String(h['grpc-status']);
        message = decodeURIComponent(String(h['grpc-message'] ?? ''));
      };
      stream.on('response', noteStatus); // "trailers-only" errors carry the status here
      stream.on('trailers', noteStatus);
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', (e) => reject(e));
      stream.on('close', () => {
        if (status === undefined)
          return reject(new CallError(14, `stream closed without status (rst ${stream.rstCode})`));
        if (status !== '0') return reject(new CallError(Number(status), message));
        try {
          resolve(decode(unframe(chunks)));
        } catch (e) {
          reject(e);
        }
      });
      stream.end(frame(request));
    });
  }

  useToken(token: string): void {
    this.token = token;
    this.tokenHeaders.clear();
  }

  private headersFor(path: string): http2.OutgoingHttpHeaders {
    if (this.token === undefined) return headersFor(path);
    let h = this.tokenHeaders.get(path);
    if (!h) this.tokenHeaders.set(path, (h = { ...headersFor(path), token: this.token }));
    return h;
  }

  close(): void {
    this.session.close();
  }
}

// Request headers are the same for every call to a method: build them once.
const headerCache = new Map<string, http2.OutgoingHttpHeaders>();
function headersFor(path: string): http2.OutgoingHttpHeaders {
  let h = headerCache.get(path);
  if (!h) {
    h = { ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' };
    headerCache.set(path, h);
  }
  return h;
}
