// A unary gRPC client written straight onto a TCP socket: it builds and parses the HTTP/2
// frames itself (RFC 9113) instead of going through node:http2.
//
// Why: a load generator's own cost per request shares the machine with the servers it
// measures. node:http2 creates a stream object, an async resource and a headers object per
// request; on a 2-core machine the generator then took about a third of all CPU, and its event
// loop's delays landed in every latency it reported. This client does what a unary call needs
// and no more: a request is one HEADERS frame (its header block built once per method) and one
// DATA frame, written with everything else sent in the same tick.
//
// What it relies on, and checks: it asks the server not to use HPACK's dynamic table
// (SETTINGS_HEADER_TABLE_SIZE 0, before any request), so every response header is either in
// the static table or spelled out; it only needs grpc-status and grpc-message from them.
import * as net from 'net';
import { CallError, frame as grpcFrame, unframe } from './grpc-message';
import type { Conn } from './conn';
import { huffmanDecode, huffmanEncode } from './huffman';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

const DATA = 0x0;
const HEADERS = 0x1;
const RST_STREAM = 0x3;
const SETTINGS = 0x4;
const PING = 0x6;
const GOAWAY = 0x7;
const WINDOW_UPDATE = 0x8;
const CONTINUATION = 0x9;

const END_STREAM = 0x1;
const ACK = 0x1;
const END_HEADERS = 0x4;
const PADDED = 0x8;
const PRIORITY = 0x20;

const SETTINGS_HEADER_TABLE_SIZE = 0x1;
const SETTINGS_ENABLE_PUSH = 0x2;
const SETTINGS_MAX_CONCURRENT_STREAMS = 0x3;
const SETTINGS_INITIAL_WINDOW_SIZE = 0x4;
const SETTINGS_MAX_FRAME_SIZE = 0x5;

/** Our receive windows: large, so that big range responses are not throttled. */
const STREAM_WINDOW = 4 << 20;
const CONNECTION_WINDOW = 32 << 20;
const DEFAULT_WINDOW = 65535;

/** HPACK's static table size: an index above it names the dynamic table, which we turned off. */
const STATIC_ENTRIES = 61;

/** Header names we read, as they may appear on the wire: raw or Huffman-coded. */
const GRPC_STATUS = ['grpc-status', huffmanEncode('grpc-status')] as const;
const GRPC_MESSAGE = ['grpc-message', huffmanEncode('grpc-message')] as const;

interface Call {
  id: number;
  /** Request bytes not sent yet, and what the stream's send window still allows. */
  unsent?: Buffer;
  window: number;
  chunks: Buffer[];
  received: number;
  status?: number;
  message?: string;
  resolve: (b: Buffer) => void;
  reject: (e: Error) => void;
}

/** A frame's 9-byte header. */
function frameHeader(length: number, type: number, flags: number, streamId: number): Buffer {
  const h = Buffer.allocUnsafe(9);
  h.writeUIntBE(length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(streamId, 5);
  return h;
}

function http2Frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  return Buffer.concat([frameHeader(payload.length, type, flags, streamId), payload]);
}

function settingsPayload(settings: [number, number][]): Buffer {
  const p = Buffer.allocUnsafe(6 * settings.length);
  settings.forEach(([id, value], i) => {
    p.writeUInt16BE(id, 6 * i);
    p.writeUInt32BE(value, 6 * i + 2);
  });
  return p;
}

function windowUpdate(streamId: number, increment: number): Buffer {
  const p = Buffer.allocUnsafe(4);
  p.writeUInt32BE(increment, 0);
  return http2Frame(WINDOW_UPDATE, 0, streamId, p);
}

/** An HPACK integer with an `n`-bit prefix, the prefix's other bits set to `high`. */
function hpackInt(value: number, n: number, high: number): number[] {
  const max = (1 << n) - 1;
  if (value < max) return [high | value];
  const out = [high | max];
  for (value -= max; value >= 128; value = Math.floor(value / 128)) out.push((value % 128) | 128);
  out.push(value);
  return out;
}

/** An HPACK string literal, not Huffman-coded. */
function hpackString(text: string): number[] {
  const bytes = Buffer.from(text, 'latin1');
  return [...hpackInt(bytes.length, 7, 0), ...bytes];
}

/**
 * The header block of a request: `:method POST` and `:scheme http` from the static table, the
 * rest literal and never added to a table (so the block is the same for every call).
 */
export function requestHeaderBlock(path: string, authority: string, token?: string): Buffer {
  const literalWithName = (index: number, value: string) => [...hpackInt(index, 4, 0), ...hpackString(value)];
  const literal = (name: string, value: string) => [0, ...hpackString(name), ...hpackString(value)];
  return Buffer.from([
    0x83, // :method POST
    0x86, // :scheme http
    ...literalWithName(4, path), // :path
    ...literalWithName(1, authority), // :authority
    ...literalWithName(31, 'application/grpc'), // content-type
    ...literal('te', 'trailers'),
    ...(token === undefined ? [] : literal('token', token)),
  ]);
}

/** Reads an HPACK integer with an `n`-bit prefix at `at`; returns [value, next offset]. */
function readInt(b: Buffer, at: number, n: number): [number, number] {
  const max = (1 << n) - 1;
  let value = b[at++] & max;
  if (value < max) return [value, at];
  for (let shift = 1; ; shift *= 128) {
    if (at >= b.length) throw new Error('truncated HPACK integer');
    const byte = b[at++];
    value += (byte & 127) * shift;
    if (!(byte & 128)) return [value, at];
  }
}

/** Reads an HPACK string literal at `at`: [its bytes, Huffman-coded?, next offset]. */
function readString(b: Buffer, at: number): [Buffer, boolean, number] {
  const huffman = (b[at] & 0x80) !== 0;
  const [length, start] = readInt(b, at, 7);
  if (start + length > b.length) throw new Error('truncated HPACK string');
  return [b.subarray(start, start + length), huffman, start + length];
}

const isName = (s: Buffer, huffman: boolean, name: readonly [string, Buffer]) =>
  huffman ? s.equals(name[1]) : s.length === name[0].length && s.toString('latin1') === name[0];

const text = (s: Buffer, huffman: boolean) => (huffman ? huffmanDecode(s) : s.toString('latin1'));

/**
 * Finds grpc-status and grpc-message in a response header block (headers or trailers). Any
 * reference to the dynamic table is an error: we asked for none.
 */
export function scanHeaderBlock(b: Buffer, call: { status?: number; message?: string }): void {
  let at = 0;
  while (at < b.length) {
    const first = b[at];
    if (first & 0x80) {
      // Indexed field: the static table has no grpc-* entries.
      let index: number;
      [index, at] = readInt(b, at, 7);
      if (index === 0 || index > STATIC_ENTRIES)
        throw new Error(`HPACK index ${index} outside the static table`);
      continue;
    }
    if ((first & 0xe0) === 0x20) {
      [, at] = readInt(b, at, 5); // dynamic table size update
      continue;
    }
    // A literal: with indexing (01), without (0000) or never indexed (0001).
    let nameIndex: number;
    [nameIndex, at] = readInt(b, at, first & 0x40 ? 6 : 4);
    if (nameIndex > STATIC_ENTRIES) throw new Error(`HPACK index ${nameIndex} outside the static table`);
    let name: Buffer | undefined;
    let nameHuffman = false;
    if (nameIndex === 0) [name, nameHuffman, at] = readString(b, at);
    const [value, valueHuffman, next] = readString(b, at);
    at = next;
    if (!name) continue;
    if (isName(name, nameHuffman, GRPC_STATUS)) {
      const digits = text(value, valueHuffman);
      call.status = digits !== undefined && /^\d+$/.test(digits) ? Number(digits) : 2;
    } else if (isName(name, nameHuffman, GRPC_MESSAGE)) {
      const message = text(value, valueHuffman);
      call.message = message === undefined ? '(grpc-message not decoded)' : safeDecodeURIComponent(message);
    }
  }
}

function safeDecodeURIComponent(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export class FrameConn implements Conn {
  private readonly socket: net.Socket;
  private readonly calls = new Map<number, Call>();
  private nextStreamId = 1;
  private failure: Error | undefined;
  private readonly connected: Promise<void>;
  private settingsReceived!: () => void;
  private connectFailed!: (e: Error) => void;
  private token: string | undefined;
  private readonly blocks = new Map<string, Buffer>();
  /** Frames to write at the end of this tick. */
  private out: Buffer[] = [];
  private flushScheduled = false;
  /** Incoming bytes not yet parsed (a partial frame). */
  private pending: Buffer | undefined;
  /** A header block spread over HEADERS and CONTINUATION frames. */
  private headerFragments: { streamId: number; endStream: boolean; parts: Buffer[] } | undefined;
  /** Flow control of what we send: the server's windows and limits. */
  private sendWindow = DEFAULT_WINDOW;
  private peerStreamWindow = DEFAULT_WINDOW;
  private peerMaxFrame = 16384;
  private peerMaxStreams = Infinity;
  /** Calls with request bytes still to send, oldest first. */
  private readonly sending: Call[] = [];
  /** Calls waiting for a free stream (the server's concurrent stream limit). */
  private readonly waiting: (() => boolean)[] = [];
  /** DATA bytes received since we last widened the connection's window. */
  private unacknowledged = 0;

  constructor(readonly endpoint: string) {
    const colon = endpoint.lastIndexOf(':');
    this.socket = net.connect({ host: endpoint.slice(0, colon), port: Number(endpoint.slice(colon + 1)) });
    this.socket.setNoDelay(true);
    this.connected = new Promise<void>((resolve, reject) => {
      this.settingsReceived = resolve;
      this.connectFailed = reject;
    });
    // Nobody may be waiting on it yet; failures reach calls and ready() through `failure`.
    this.connected.catch(() => undefined);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (e) => this.fail(e));
    this.socket.on('close', () => this.fail(new CallError(14, `connection to ${endpoint} closed`)));
    this.socket.write(
      Buffer.concat([
        PREFACE,
        http2Frame(
          SETTINGS,
          0,
          0,
          settingsPayload([
            [SETTINGS_HEADER_TABLE_SIZE, 0],
            [SETTINGS_ENABLE_PUSH, 0],
            [SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW],
          ]),
        ),
        windowUpdate(0, CONNECTION_WINDOW - DEFAULT_WINDOW),
      ]),
    );
  }

  ready(timeoutMs = 10000): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`connect ${this.endpoint}: timed out`)), timeoutMs);
      this.connected.then(
        () => (clearTimeout(timer), resolve()),
        (e) => (clearTimeout(timer), reject(e)),
      );
    });
  }

  unary<R>(path: string, request: Buffer, decode: (b: Buffer) => R): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      const body = grpcFrame(request);
      const call: Call = {
        id: 0,
        window: 0,
        chunks: [],
        received: 0,
        resolve: (b) => {
          try {
            resolve(decode(b));
          } catch (e) {
            reject(e);
          }
        },
        reject,
      };
      const start = () => {
        if (this.failure) {
          reject(this.failure);
          return true;
        }
        if (this.nextStreamId > 0x7fffffff) {
          reject(new CallError(14, 'no stream ids left on this connection'));
          return true;
        }
        if (this.calls.size >= this.peerMaxStreams) return false;
        this.open(path, body, call);
        return true;
      };
      if (this.waiting.length > 0 || !start()) this.waiting.push(start);
    });
  }

  /** Opens the call's stream: its headers now, its body as the flow-control windows allow. */
  private open(path: string, body: Buffer, call: Call): void {
    call.id = this.nextStreamId;
    this.nextStreamId += 2;
    this.calls.set(call.id, call);
    const block = this.blockFor(path);
    this.out.push(frameHeader(block.length, HEADERS, END_HEADERS, call.id), block);
    call.unsent = body;
    call.window = this.peerStreamWindow;
    this.sending.push(call);
    this.pump();
    this.scheduleFlush();
  }

  /** Sends what the windows allow of each call's unsent body, oldest call first. */
  private pump(): void {
    for (let i = 0; i < this.sending.length && this.sendWindow > 0;) {
      const call = this.sending[i];
      const unsent = call.unsent!;
      const n = Math.min(unsent.length, call.window, this.sendWindow, this.peerMaxFrame);
      if (n > 0) {
        const last = n === unsent.length;
        this.out.push(frameHeader(n, DATA, last ? END_STREAM : 0, call.id), unsent.subarray(0, n));
        call.window -= n;
        this.sendWindow -= n;
        if (last) {
          call.unsent = undefined;
          this.sending.splice(i, 1);
          continue;
        }
        call.unsent = unsent.subarray(n);
      }
      if (call.window <= 0) i++;
    }
    if (this.out.length > 0) this.scheduleFlush();
  }

  /** Forgets a call that is over: its stream, and whatever of its body was not sent. */
  private forget(call: Call): void {
    this.calls.delete(call.id);
    if (call.unsent) {
      call.unsent = undefined;
      this.sending.splice(this.sending.indexOf(call), 1);
    }
    this.startWaiting();
  }

  private blockFor(path: string): Buffer {
    let block = this.blocks.get(path);
    if (!block) this.blocks.set(path, (block = requestHeaderBlock(path, this.endpoint, this.token)));
    return block;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    process.nextTick(() => {
      this.flushScheduled = false;
      const out = this.out;
      this.out = [];
      if (!this.failure && out.length > 0) this.socket.write(out.length === 1 ? out[0] : Buffer.concat(out));
    });
  }

  private startWaiting(): void {
    while (this.waiting.length > 0 && this.waiting[0]()) this.waiting.shift();
  }

  private onData(chunk: Buffer): void {
    let b = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    let at = 0;
    try {
      while (b.length - at >= 9) {
        const length = b.readUIntBE(at, 3);
        if (b.length - at < 9 + length) break;
        const type = b[at + 3];
        const flags = b[at + 4];
        const streamId = b.readUInt32BE(at + 5) & 0x7fffffff;
        this.onFrame(type, flags, streamId, b.subarray(at + 9, at + 9 + length));
        at += 9 + length;
      }
    } catch (e) {
      this.fail(e instanceof Error ? e : new Error(String(e)));
      this.socket.destroy();
      return;
    }
    b = b.subarray(at);
    this.pending = b.length > 0 ? Buffer.from(b) : undefined;
  }

  private onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (this.headerFragments && type !== CONTINUATION) throw new Error('expected a CONTINUATION frame');
    switch (type) {
      case DATA: {
        this.unacknowledged += payload.length;
        if (this.unacknowledged >= CONNECTION_WINDOW / 2) {
          this.out.push(windowUpdate(0, this.unacknowledged));
          this.unacknowledged = 0;
          this.scheduleFlush();
        }
        const call = this.calls.get(streamId);
        if (!call) return;
        const data = flags & PADDED ? payload.subarray(1, payload.length - payload[0]) : payload;
        call.chunks.push(data);
        call.received += payload.length;
        if (call.received >= STREAM_WINDOW / 2 && !(flags & END_STREAM)) {
          this.out.push(windowUpdate(streamId, call.received));
          call.received = 0;
          this.scheduleFlush();
        }
        if (flags & END_STREAM) this.finish(streamId);
        return;
      }
      case HEADERS: {
        let block = payload;
        if (flags & PADDED) block = block.subarray(1, block.length - block[0]);
        if (flags & PRIORITY) block = block.subarray(5);
        if (flags & END_HEADERS) this.onHeaderBlock(streamId, block, (flags & END_STREAM) !== 0);
        else
          this.headerFragments = {
            streamId,
            endStream: (flags & END_STREAM) !== 0,
            parts: [Buffer.from(block)],
          };
        return;
      }
      case CONTINUATION: {
        const f = this.headerFragments;
        if (!f || f.streamId !== streamId) throw new Error('unexpected CONTINUATION frame');
        f.parts.push(Buffer.from(payload));
        if (flags & END_HEADERS) {
          this.headerFragments = undefined;
          this.onHeaderBlock(streamId, Buffer.concat(f.parts), f.endStream);
        }
        return;
      }
      case RST_STREAM: {
        const call = this.calls.get(streamId);
        if (!call) return;
        this.forget(call);
        call.reject(new CallError(14, `stream reset by the server (code ${payload.readUInt32BE(0)})`));
        return;
      }
      case SETTINGS:
        if (flags & ACK) return;
        for (let at = 0; at + 6 <= payload.length; at += 6)
          this.applySetting(payload.readUInt16BE(at), payload.readUInt32BE(at + 2));
        this.out.push(frameHeader(0, SETTINGS, ACK, 0));
        this.scheduleFlush();
        this.settingsReceived();
        return;
      case PING:
        if (!(flags & ACK)) {
          this.out.push(http2Frame(PING, ACK, 0, Buffer.from(payload)));
          this.scheduleFlush();
        }
        return;
      case GOAWAY:
        this.fail(new CallError(14, `the server sent GOAWAY (code ${payload.readUInt32BE(4)})`));
        return;
      case WINDOW_UPDATE: {
        const increment = payload.readUInt32BE(0) & 0x7fffffff;
        if (streamId === 0) this.sendWindow += increment;
        else if (this.calls.has(streamId)) this.calls.get(streamId)!.window += increment;
        this.pump();
        return;
      }
      default:
        return; // PRIORITY, PUSH_PROMISE (we disabled push), unknown types: ignored
    }
  }

  private applySetting(id: number, value: number): void {
    if (id === SETTINGS_INITIAL_WINDOW_SIZE) {
      // A new initial window moves the windows of open streams by the difference.
      for (const call of this.calls.values()) call.window += value - this.peerStreamWindow;
      this.peerStreamWindow = value;
      this.pump();
    } else if (id === SETTINGS_MAX_FRAME_SIZE) this.peerMaxFrame = value;
    else if (id === SETTINGS_MAX_CONCURRENT_STREAMS) this.peerMaxStreams = value;
  }

  private onHeaderBlock(streamId: number, block: Buffer, endStream: boolean): void {
    const call = this.calls.get(streamId);
    if (!call) return;
    scanHeaderBlock(block, call);
    if (endStream) this.finish(streamId);
  }

  private finish(streamId: number): void {
    const call = this.calls.get(streamId)!;
    this.forget(call);
    if (call.status === undefined) return call.reject(new CallError(14, 'stream ended without grpc-status'));
    if (call.status !== 0) return call.reject(new CallError(call.status, call.message ?? ''));
    let message: Buffer;
    try {
      message = unframe(call.chunks);
    } catch (e) {
      return call.reject(e as Error);
    }
    call.resolve(message);
  }

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    this.connectFailed(e);
    for (const call of this.calls.values()) call.reject(e);
    this.calls.clear();
    this.sending.length = 0;
    this.startWaiting();
  }

  useToken(token: string): void {
    this.token = token;
    this.blocks.clear();
  }

  close(): void {
    this.failure ??= new CallError(1, 'connection closed');
    this.socket.end();
  }
}
