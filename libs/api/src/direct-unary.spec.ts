import * as grpc from '@grpc/grpc-js';
import * as http2 from 'node:http2';
import { DirectUnaryCall, serveUnaryDirectly } from './direct-unary';
import { FrameEncoder } from './kv-frames';

// Each request names what the handler does with it: the same requests go to a plain grpc-js
// server and to one whose unary calls are served directly, and the answers must be the same
// on the wire (status, headers, trailers, body).
const METHOD = '/test.Probe/Call';
const STREAMING = '/test.Probe/Stream';
const MAX_RECEIVE = 1024;

interface Server {
  port: number;
  server: grpc.Server;
  calls: unknown[];
  cancelled: string[];
}

function handler(calls: unknown[], cancelled: string[]) {
  return (call: grpc.ServerUnaryCall<Buffer, unknown>, reply: grpc.sendUnaryData<unknown>) => {
    calls.push(call);
    const text = call.request.toString();
    const meta = (key: string) =>
      call.metadata.get(key).map((v) => (Buffer.isBuffer(v) ? `bin:${v.toString()}` : v));
    if (text.startsWith('echo:')) reply(null, Buffer.from(text.slice(5)));
    else if (text === 'fail')
      reply({ code: grpc.status.FAILED_PRECONDITION, details: 'etcdserver: nope ü%' });
    else if (text === 'error') reply(new Error('plain error'));
    else if (text === 'throw') throw new Error('thrown');
    else if (text === 'meta')
      reply(null, Buffer.from(JSON.stringify([meta('token'), meta('x-bin'), meta('absent')])));
    else if (text === 'unsendable') reply(null, 'not a buffer');
    else if (text === 'wait') call.on('cancelled', () => cancelled.push(text));
    else reply(null, Buffer.alloc(0));
  };
}

async function start(direct: boolean, frames?: ReadonlyMap<string, FrameEncoder>): Promise<Server> {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': MAX_RECEIVE });
  const calls: unknown[] = [];
  const cancelled: string[] = [];
  const codec = {
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => {
      if (b.toString() === 'undecodable') throw new Error('bad bytes');
      return b;
    },
    responseSerialize: (v: unknown) => {
      if (!Buffer.isBuffer(v)) throw new Error('bad value');
      return v;
    },
    responseDeserialize: (b: Buffer) => b,
  };
  server.addService(
    {
      Call: { path: METHOD, requestStream: false, responseStream: false, ...codec },
      Stream: { path: STREAMING, requestStream: false, responseStream: true, ...codec },
    } as grpc.ServiceDefinition,
    {
      Call: handler(calls, cancelled),
      Stream: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
        call.write(Buffer.from('streamed'));
        call.end();
      },
    },
  );
  const port = await new Promise<number>((ok, fail) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? fail(err) : ok(p),
    ),
  );
  if (direct) expect(serveUnaryDirectly(server, undefined, frames)).toBe(1);
  return { port, server, calls, cancelled };
}

interface Answer {
  headers: Record<string, unknown>;
  trailers?: Record<string, unknown>;
  body: string;
}

const frame = (text: string | Buffer, declared?: number) => {
  const b = Buffer.from(text);
  const out = Buffer.alloc(5 + b.length);
  out.writeUInt32BE(declared ?? b.length, 1);
  b.copy(out, 5);
  return out;
};

/** One raw HTTP/2 call: the chunks are written as they are, then the stream is ended. */
async function call(
  port: number,
  chunks: Buffer[],
  extra: http2.OutgoingHttpHeaders = {},
  raw = false,
): Promise<Answer> {
  const tidy = raw ? (h: http2.IncomingHttpHeaders) => Object.fromEntries(Object.entries(h)) : clean;
  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    return await new Promise<Answer>((ok, fail) => {
      const req = session.request({
        ':method': 'POST',
        ':path': METHOD,
        'content-type': 'application/grpc',
        te: 'trailers',
        ...extra,
      });
      const answer: Answer = { headers: {}, body: '' };
      const data: Buffer[] = [];
      req.on('response', (h) => (answer.headers = tidy(h)));
      req.on('trailers', (t) => (answer.trailers = tidy(t)));
      req.on('data', (d: Buffer) => data.push(d));
      req.on('end', () => ok({ ...answer, body: Buffer.concat(data).toString('hex') }));
      req.on('error', fail);
      for (const c of chunks) req.write(c);
      req.end();
    });
  } finally {
    session.close();
  }
}

function clean(h: http2.IncomingHttpHeaders): Record<string, unknown> {
  const { date: _date, ...rest } = h;
  return { ...rest };
}

/**
 * grpc-js's answer as the direct path words it: the headers etcd (grpc-go) sends, nothing more.
 * The direct answer itself is compared as it came, so a header it should not send still fails.
 */
function asEtcdSends(a: Answer): Answer {
  const ETCD_OMITS = ['grpc-accept-encoding', 'grpc-encoding'];
  const headers = Object.fromEntries(Object.entries(a.headers).filter(([k]) => !ETCD_OMITS.includes(k)));
  if (headers['content-type'] === 'application/grpc+proto') headers['content-type'] = 'application/grpc';
  if (!a.trailers) return { ...a, headers };
  const trailers = Object.fromEntries(Object.entries(a.trailers));
  if (trailers['grpc-message'] === 'OK') trailers['grpc-message'] = '';
  return { ...a, headers, trailers };
}

let plain: Server;
let direct: Server;

beforeAll(async () => {
  [plain, direct] = await Promise.all([start(false), start(true)]);
});

afterAll(() => {
  plain.server.forceShutdown();
  direct.server.forceShutdown();
});

/** The same call to both servers: equal answers, grpc-js's as the direct path words it. */
async function same(chunks: Buffer[], extra: http2.OutgoingHttpHeaders = {}): Promise<Answer> {
  const [p, d] = [await call(plain.port, chunks, extra), await call(direct.port, chunks, extra, true)];
  expect(d).toEqual(asEtcdSends(p));
  return d;
}

/** A call the direct server leaves to grpc-js: the very same answer. */
async function passedOn(chunks: Buffer[], extra: http2.OutgoingHttpHeaders = {}): Promise<Answer> {
  const [p, d] = [await call(plain.port, chunks, extra), await call(direct.port, chunks, extra)];
  expect(d).toEqual(p);
  return d;
}

it('serves unary calls itself, with the call object handlers expect', async () => {
  const before = direct.calls.length;
  const a = await same([frame('echo:hello')]);
  expect(Buffer.from(a.body, 'hex').subarray(5).toString()).toBe('hello');
  // etcd's answer, exactly: no date, no compression headers, an empty message.
  expect(a.headers).toEqual({ ':status': 200, 'content-type': 'application/grpc' });
  expect(a.trailers).toEqual({ 'grpc-status': '0', 'grpc-message': '' });
  expect(direct.calls.length).toBe(before + 1);
  expect(direct.calls[direct.calls.length - 1]).toBeInstanceOf(DirectUnaryCall);
  expect(plain.calls[plain.calls.length - 1]).not.toBeInstanceOf(DirectUnaryCall);
});

it('once the stream closes, the call and the stream let go of each other', async () => {
  const before = direct.calls.length;
  await same([frame('echo:bye')]);
  const c = direct.calls[before] as DirectUnaryCall;
  const stream = (c as unknown as { stream: http2.ServerHttp2Stream }).stream;
  // The client has its answer; the server's close may come a moment later.
  for (let i = 0; i < 100 && c.request !== undefined; i++) await new Promise((r) => setTimeout(r, 10));
  expect(stream.closed).toBe(true);
  expect(c.request).toBeUndefined();
  // Node's and grpc-js's own listeners may stay; none of the call's does.
  const own = c as unknown as Record<string, () => void>;
  const listeners = ['data', 'end', 'close', 'wantTrailers'].flatMap((e) => stream.listeners(e));
  for (const name of ['dataListener', 'endListener', 'closeListener', 'trailersListener']) {
    expect(typeof own[name]).toBe('function');
    expect(listeners).not.toContain(own[name]);
  }
});

it('a request split over many chunks, and one split inside its length prefix', async () => {
  const whole = frame(`echo:${'x'.repeat(900)}`);
  const chunks = [
    whole.subarray(0, 3),
    whole.subarray(3, 100),
    whole.subarray(100, 500),
    whole.subarray(500),
  ];
  const a = await same(chunks);
  expect(a.trailers?.['grpc-status']).toBe('0');
});

it.each([
  ['an error with a code', [frame('fail')]],
  ['an error without one', [frame('error')]],
  ['a handler that throws', [frame('throw')]],
  ['a response that does not serialize', [frame('unsendable')]],
  ['a request that does not deserialize', [frame('undecodable')]],
  ['a message over the receive limit', [frame('x'.repeat(MAX_RECEIVE + 1))]],
  ['a prefix announcing more than the limit', [frame('x', MAX_RECEIVE * 10)]],
  ['two messages', [frame('echo:a'), frame('echo:b')]],
  ['no message', []],
  ['a truncated message', [frame('echo:abc').subarray(0, 7)]],
])('%s: the same status as grpc-js', async (_name, chunks) => {
  const a = await same(chunks);
  expect(a.headers['grpc-status']).not.toBe('0');
});

it('metadata: text, binary and absent keys read as grpc-js reads them', async () => {
  const a = await same([frame('meta')], { token: 'abc', 'x-bin': Buffer.from('raw').toString('base64') });
  expect(JSON.parse(Buffer.from(a.body, 'hex').subarray(5).toString())).toEqual([['abc'], ['bin:raw'], []]);
});

it('a bad grpc-timeout is refused, and a passed deadline answers DEADLINE_EXCEEDED and cancels the handler', async () => {
  await same([frame('echo:a')], { 'grpc-timeout': 'soon' });
  const a = await same([frame('wait')], { 'grpc-timeout': '50m' });
  expect(a.headers['grpc-status']).toBe(String(grpc.status.DEADLINE_EXCEEDED));
  await new Promise((ok) => setImmediate(ok));
  expect(direct.cancelled).toContain('wait');
});

it('a deadline too long for a timer (30 days) is kept, not wrapped to an expired one as grpc-js does', async () => {
  const a = await call(direct.port, [frame('echo:later')], { 'grpc-timeout': '2592000S' });
  expect(a.trailers?.['grpc-status']).toBe('0');
  expect(Buffer.from(a.body, 'hex').subarray(5).toString()).toBe('later');
  const b = await call(direct.port, [frame('echo:spaced')], { 'grpc-timeout': '5 S' });
  expect(b.trailers?.['grpc-status']).toBe('0');
});

it('a client that goes away cancels the handler', async () => {
  direct.cancelled.length = 0;
  const before = direct.calls.length;
  const session = http2.connect(`http://127.0.0.1:${direct.port}`);
  const req = session.request({ ':method': 'POST', ':path': METHOD, 'content-type': 'application/grpc' });
  req.on('error', () => undefined);
  req.end(frame('wait'));
  while (direct.calls.length === before) await new Promise((ok) => setTimeout(ok, 5));
  req.close(http2.constants.NGHTTP2_CANCEL);
  for (let i = 0; i < 200 && direct.cancelled.length === 0; i++) await new Promise((ok) => setTimeout(ok, 5));
  session.close();
  expect(direct.cancelled).toEqual(['wait']);
});

it('a server with interceptors keeps every call on grpc-js (they run only there)', async () => {
  const intercepted = new grpc.Server({
    interceptors: [(_m, call) => new grpc.ServerInterceptingCall(call)],
  });
  try {
    await new Promise<number>((ok, fail) =>
      intercepted.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? fail(err) : ok(p),
      ),
    );
    expect(serveUnaryDirectly(intercepted)).toBe(0);
  } finally {
    intercepted.forceShutdown();
  }
});

it('leaves compressed requests, other content types, unknown paths and streaming methods to grpc-js', async () => {
  await passedOn([frame('echo:a')], { 'grpc-encoding': 'gzip' });
  const notGrpc = await passedOn([frame('echo:a')], { 'content-type': 'application/json' });
  expect(notGrpc.headers[':status']).toBe(415);
  const unknown = await passedOn([frame('echo:a')], { ':path': '/test.Probe/Nothing' });
  expect(unknown.headers['grpc-status']).toBe(String(grpc.status.UNIMPLEMENTED));
  const streamed = await passedOn([frame('x')], { ':path': STREAMING });
  expect(Buffer.from(streamed.body, 'hex').subarray(5).toString()).toBe('streamed');
});

it("a method's frame encoder answers the values it takes; the serializer answers the others", async () => {
  const byHand: FrameEncoder = (v) =>
    Buffer.isBuffer(v) && v.toString() === 'hand' ? frame('encoded by hand') : undefined;
  const server = await start(true, new Map([[METHOD, byHand]]));
  try {
    const hand = await call(server.port, [frame('echo:hand')], {}, true);
    expect(Buffer.from(hand.body, 'hex').subarray(5).toString()).toBe('encoded by hand');
    expect(hand.trailers).toEqual({ 'grpc-status': '0', 'grpc-message': '' });
    const other = await call(server.port, [frame('echo:other')], {}, true);
    expect(Buffer.from(other.body, 'hex').subarray(5).toString()).toBe('other');
  } finally {
    server.server.forceShutdown();
  }
});
