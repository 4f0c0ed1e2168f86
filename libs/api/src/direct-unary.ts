import type { Server, ServerCredentials } from '@grpc/grpc-js';
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Stream, Http2Server } from 'node:http2';
import { TLSSocket } from 'node:tls';
import { GrpcCode } from '../../server/src';
import type { FrameEncoder } from './kv-frames';

/** A method as grpc-js registers it (Server.handlers): the path's codec and Nest's handler. */
interface RegisteredMethod {
  type: string;
  path: string;
  func: (call: DirectUnaryCall, reply: (err: unknown, value?: unknown) => void) => void;
  serialize(value: unknown): Buffer;
  deserialize(bytes: Buffer): unknown;
}

/** The grpc-js 1.14 Server internals this module reads; checked before use. */
interface ServerInternals {
  handlers?: Map<string, RegisteredMethod>;
  http2Servers?: Map<Http2Server, unknown>;
  options?: Record<string, unknown>;
  interceptors?: unknown[];
  onStreamOpened?(stream: ServerHttp2Stream): void;
}

interface DirectOptions {
  frames: ReadonlyMap<string, FrameEncoder>;
  maxReceive: number;
  maxSend: number;
}

type StreamListener = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number) => void;

// grpc-js's defaults when the server is given no limits.
const DEFAULT_MAX_RECEIVE = 4 * 1024 * 1024;
const DEFAULT_MAX_SEND = -1;

// A successful answer carries what etcd's (grpc-go's) does: no date, no compression headers,
// an empty grpc-message. Clients read nothing else, and every header left out is work saved on
// both ends of every call. Node does not change header objects it is given that already carry
// :status, so one of each serves every call.
const CONTENT_TYPE = 'application/grpc';
const RESPONSE_HEADERS = Object.freeze({ ':status': 200, 'content-type': CONTENT_TYPE });
const RESPONSE_OPTIONS = Object.freeze({ waitForTrailers: true, sendDate: false });
const OK_TRAILERS = Object.freeze({ 'grpc-status': '0', 'grpc-message': '' });
const END_STREAM = Object.freeze({ endStream: true, sendDate: false });

const TIMEOUT_UNITS: Record<string, number> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 0.001,
  n: 0.000001,
};
// grpc-js's own reading of the header (unanchored, spaces allowed).
const TIMEOUT_FORMAT = /(\d{1,8})\s*([HMSmun])/;
// The longest delay a Node timer takes; a longer one would fire at once.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Serves unary calls straight from the HTTP/2 stream, answering on the wire as grpc-js does
 * (status codes, messages, trailers-only errors, limits) with etcd's leaner headers (above),
 * without grpc-js's per-call machinery:
 * an intercepting call, a metadata copy, a decoder, a read queue, a call-object stream and
 * eagerly built trace strings on every call. Under load that machinery was most of what a put
 * allocated, and so most of the garbage collection that set the tail latency.
 *
 * Everything else (streaming methods, unknown paths, wrong content types, compressed
 * requests) still goes to grpc-js, and so does every call of a server with interceptors (the
 * server's own, or its credentials', such as the allowed CN or hostname gate), which only
 * grpc-js runs. Must run after the server is bound; it reads grpc-js internals, so it checks
 * they are there and returns how many listeners it took over (0: every call keeps grpc-js's
 * path). `frames` encodes some methods' responses by hand (see kv-frames.ts); the others, and
 * any value those encoders do not take, go through the method's own serializer.
 */
export function serveUnaryDirectly(
  server: Server,
  credentials?: ServerCredentials,
  frames: ReadonlyMap<string, FrameEncoder> = new Map(),
): number {
  const internals = server as unknown as ServerInternals;
  const { handlers, http2Servers } = internals;
  if (!(handlers instanceof Map) || !(http2Servers instanceof Map)) return 0;
  if (!Array.isArray(internals.interceptors) || internals.interceptors.length > 0) return 0;
  if ((credentials?._getInterceptors().length ?? 0) > 0) return 0;
  const options: DirectOptions = {
    frames,
    maxReceive: numberOption(internals.options, 'grpc.max_receive_message_length', DEFAULT_MAX_RECEIVE),
    maxSend: numberOption(internals.options, 'grpc.max_send_message_length', DEFAULT_MAX_SEND),
  };
  let taken = 0;
  for (const h2 of http2Servers.keys()) {
    const listeners = h2.listeners('stream') as StreamListener[];
    if (listeners.length !== 1) continue;
    const grpcJs = listeners[0];
    h2.removeListener('stream', grpcJs);
    h2.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number) => {
      const method = handlers.get(headers[':path'] as string);
      if (method?.type !== 'unary' || !plainGrpc(headers)) return grpcJs(stream, headers, flags);
      internals.onStreamOpened?.(stream);
      new DirectUnaryCall(stream, headers, method, options).start();
    });
    taken++;
  }
  return taken;
}

function numberOption(options: Record<string, unknown> | undefined, key: string, fallback: number): number {
  const v = options?.[key];
  return typeof v === 'number' ? v : fallback;
}

/** A gRPC request grpc-js would take as it is: gRPC content, not compressed. */
function plainGrpc(headers: IncomingHttpHeaders): boolean {
  const type = headers['content-type'];
  const encoding = headers['grpc-encoding'];
  return (
    typeof type === 'string' &&
    type.startsWith('application/grpc') &&
    (encoding === undefined || encoding === 'identity')
  );
}

/** Request metadata read from the headers when asked (grpc-js's Metadata.get for one key). */
class HeaderMetadata {
  constructor(private readonly headers: IncomingHttpHeaders) {}

  get(key: string): (string | Buffer)[] {
    const k = key.toLowerCase();
    const v = this.headers[k];
    if (v === undefined || k.startsWith(':')) return [];
    const values = Array.isArray(v) ? v : [v];
    if (!k.endsWith('-bin')) return values;
    return values.flatMap((s) => s.split(',')).map((s) => Buffer.from(s.trim(), 'base64'));
  }
}

interface Status {
  code: number;
  details: string;
  metadata?: { toHttp2Headers?(): OutgoingHttpHeaders } | null;
}

/** The call object handlers see (request, metadata, cancellation, peer), answering once. */
export class DirectUnaryCall {
  request: unknown;
  readonly metadata: HeaderMetadata;
  cancelled = false;
  // The request's bytes as they came: the first chunk, then any others (rarely more than one).
  private first: Buffer | undefined;
  private rest: Buffer[] | undefined;
  private received = 0;
  private messageSize = -1;
  private answered = false;
  private deadline = Infinity;
  private timer: NodeJS.Timeout | undefined;
  private cancelListeners: (() => void)[] | undefined;

  constructor(
    private readonly stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    private readonly method: RegisteredMethod,
    private readonly options: DirectOptions,
  ) {
    this.metadata = new HeaderMetadata(headers);
    const timeout = headers['grpc-timeout'];
    if (timeout !== undefined) this.startDeadline(String(timeout));
  }

  // The stream's listeners, kept to be taken off again when it closes (see onClose).
  private readonly closeListener = (): void => this.onClose();
  private readonly dataListener = (chunk: Buffer): void => this.onData(chunk);
  private readonly endListener = (): void => this.onEnd();
  private readonly trailersListener = (): void => this.write(() => this.stream.sendTrailers(OK_TRAILERS));

  start(): void {
    const stream = this.stream;
    // An error always comes with a close; the listener only keeps it from being thrown.
    stream.on('error', ignore);
    // 'on', not 'once': each of these comes once per stream, and once() wraps every listener.
    stream.on('close', this.closeListener);
    stream.on('data', this.dataListener);
    stream.on('end', this.endListener);
  }

  on(event: string, listener: () => void): this {
    if (event === 'cancelled') (this.cancelListeners ??= []).push(listener);
    return this;
  }

  getPeer(): string {
    const socket = this.stream.session?.socket;
    if (!socket?.remoteAddress) return 'unknown';
    return socket.remotePort ? `${socket.remoteAddress}:${socket.remotePort}` : socket.remoteAddress;
  }

  getDeadline(): number {
    return this.deadline;
  }

  /** As grpc-js: the client's certificate when the TLS connection verified it. */
  getAuthContext(): { transportSecurityType?: string; sslPeerCertificate?: object } {
    const socket = this.stream.session?.socket;
    if (!(socket instanceof TLSSocket) || !socket.authorized) return {};
    const cert = socket.getPeerCertificate();
    return { transportSecurityType: 'ssl', sslPeerCertificate: cert.raw ? cert : undefined };
  }

  private startDeadline(header: string): void {
    const match = TIMEOUT_FORMAT.exec(header);
    if (!match) {
      process.nextTick(() => this.fail(GrpcCode.INTERNAL, `Invalid grpc-timeout value "${header}"`));
      return;
    }
    // grpc-js truncates to 32 bits, so a deadline over 24.8 days (a Go client sends 30 days as
    // 2592000S) wraps and expires at once; here it is kept, and needs no timer.
    const ms = Math.floor(Number(match[1]) * TIMEOUT_UNITS[match[2]]);
    this.deadline = Date.now() + ms;
    if (ms > MAX_TIMER_MS) return;
    this.timer = setTimeout(() => {
      this.fail(GrpcCode.DEADLINE_EXCEEDED, 'Deadline exceeded');
      this.cancel();
    }, ms);
  }

  private onData(chunk: Buffer): void {
    if (this.answered) return;
    if (this.first === undefined) this.first = chunk;
    else (this.rest ??= []).push(chunk);
    this.received += chunk.length;
    if (this.messageSize < 0 && this.received >= 5) {
      this.messageSize = this.bytes().readUInt32BE(1);
      if (this.options.maxReceive !== -1 && this.messageSize > this.options.maxReceive) {
        this.fail(
          GrpcCode.RESOURCE_EXHAUSTED,
          `Received message larger than max (${this.messageSize} vs ${this.options.maxReceive})`,
        );
        return;
      }
    }
    if (this.messageSize >= 0 && this.received > this.messageSize + 5)
      this.fail(
        GrpcCode.UNIMPLEMENTED,
        `Received a second request message for server streaming method ${this.method.path}`,
      );
  }

  private bytes(): Buffer {
    if (this.rest === undefined) return this.first as Buffer;
    this.first = Buffer.concat([this.first as Buffer, ...this.rest], this.received);
    this.rest = undefined;
    return this.first;
  }

  private onEnd(): void {
    if (this.answered) return;
    if (this.messageSize < 0 || this.received !== this.messageSize + 5) {
      this.fail(
        GrpcCode.UNIMPLEMENTED,
        `Received no request message for server streaming method ${this.method.path}`,
      );
      return;
    }
    const body = this.bytes();
    try {
      this.request = this.method.deserialize(body.subarray(5));
    } catch {
      this.fail(GrpcCode.INTERNAL, 'Error deserializing request');
      return;
    }
    try {
      this.method.func(this, (err, value) => this.reply(err, value));
    } catch {
      this.fail(GrpcCode.UNKNOWN, 'Unknown error');
    }
  }

  private reply(err: unknown, value?: unknown): void {
    if (this.answered) return;
    if (err) {
      this.respondStatus(statusOf(err));
      return;
    }
    let frame: Buffer;
    try {
      frame = this.options.frames.get(this.method.path)?.(value) ?? framed(this.method.serialize(value));
    } catch {
      this.fail(GrpcCode.INTERNAL, 'Error serializing response');
      return;
    }
    const length = frame.length - 5;
    if (this.options.maxSend !== -1 && length > this.options.maxSend) {
      this.fail(
        GrpcCode.RESOURCE_EXHAUSTED,
        `Sent message larger than max (${length + 5} vs. ${this.options.maxSend})`,
      );
      return;
    }
    this.finish();
    if (this.stream.destroyed || this.stream.closed) return;
    this.write(() => {
      this.stream.respond(RESPONSE_HEADERS, RESPONSE_OPTIONS);
      this.stream.on('wantTrailers', this.trailersListener);
      this.stream.end(frame);
    });
  }

  /** A stream the client reset while the answer was on its way throws: it is dropped, never the member. */
  private write(send: () => void): void {
    try {
      send();
    } catch {
      this.stream.destroy();
    }
  }

  private fail(code: number, details: string): void {
    if (!this.answered) this.respondStatus({ code, details });
  }

  /** A trailers-only response: the status in the one header block, as grpc-js sends errors. */
  private respondStatus(status: Status): void {
    this.finish();
    if (this.stream.destroyed || this.stream.closed) return;
    const headers: OutgoingHttpHeaders = {
      ...status.metadata?.toHttp2Headers?.(),
      'grpc-status': String(status.code),
      'grpc-message': encodeURI(status.details),
      ':status': 200,
      'content-type': CONTENT_TYPE,
    };
    this.write(() => this.stream.respond(headers, END_STREAM));
    // Whatever the client still sends is read and dropped.
    this.stream.resume();
  }

  private finish(): void {
    this.answered = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * The call lets go of the stream, and the stream of the call: a closed stream can outlive
   * its call (node:http2's stream map kept them until a full collection; see stream-table.ts),
   * and must not take the call, its request and its answer along. Before the stream tables,
   * this alone cut what a serving member's scavenges promoted by a third.
   */
  private onClose(): void {
    const wasAnswered = this.answered;
    this.finish();
    if (!wasAnswered) this.cancel();
    const stream = this.stream;
    stream.removeListener('close', this.closeListener);
    stream.removeListener('data', this.dataListener);
    stream.removeListener('end', this.endListener);
    stream.removeListener('wantTrailers', this.trailersListener);
    this.first = undefined;
    this.rest = undefined;
    this.request = undefined;
  }

  private cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    const listeners = this.cancelListeners;
    if (listeners) process.nextTick(() => listeners.forEach((l) => l()));
  }
}

function ignore(): void {}

/** A message in its gRPC frame: not compressed, then its length. */
function framed(message: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(message.length + 5);
  frame[0] = 0;
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  return frame;
}

/** grpc-js's reading of a handler's error: an integer code keeps its details, else UNKNOWN. */
function statusOf(err: unknown): Status {
  const e = err as { code?: unknown; details?: unknown; message?: unknown; metadata?: Status['metadata'] };
  const status: Status = {
    code: GrpcCode.UNKNOWN,
    details: typeof e === 'object' && e !== null && 'message' in e ? String(e.message) : 'Unknown Error',
    metadata: e?.metadata ?? null,
  };
  if (typeof e?.code === 'number' && Number.isInteger(e.code)) {
    status.code = e.code;
    if (typeof e.details === 'string') status.details = e.details;
  }
  return status;
}
