// The frames transport against node:http2's server (nghttp2's HPACK encoder, as Cairn serves
// with); bench.spec.ts runs it against etcd (Go's).
import * as http2 from 'http2';
import { AddressInfo } from 'net';
import { CallError } from './grpc-message';
import { frame } from './conn';
import { FrameConn, requestHeaderBlock, scanHeaderBlock } from './frame-conn';
import { huffmanEncode } from './huffman';

// Every printable character but '%' (grpc-message is percent-decoded), after enough common
// letters that nghttp2 finds the Huffman coding shorter than the raw string, and uses it.
const PRINTABLE =
  'etcdserver: '.repeat(30) +
  Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i))
    .join('')
    .replace('%', '');

describe('frames transport against node:http2', () => {
  let server: http2.Http2Server;
  let endpoint: string;
  const conns: FrameConn[] = [];
  const open = async () => {
    const c = new FrameConn(endpoint);
    conns.push(c);
    await c.ready();
    return c;
  };

  beforeAll(async () => {
    server = http2.createServer();
    server.on('stream', (stream, headers) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const ok = (message: Buffer) => {
          stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
          stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
          stream.end(frame(message));
        };
        const fail = (code: number, message: string) =>
          stream.respond(
            {
              ':status': 200,
              'content-type': 'application/grpc',
              'grpc-status': String(code),
              'grpc-message': message,
            },
            { endStream: true },
          );
        const body = Buffer.concat(chunks);
        switch (headers[':path']) {
          case '/test.Echo/Echo':
            return ok(body.subarray(5));
          case '/test.Echo/Big':
            return ok(Buffer.alloc(10 << 20, 7));
          case '/test.Echo/Token':
            return ok(Buffer.from(String(headers.token)));
          case '/test.Echo/Headers':
            return ok(Buffer.from(JSON.stringify(headers)));
          case '/test.Echo/Printable':
            return fail(5, PRINTABLE);
          case '/test.Echo/Escaped':
            return fail(3, 'key%20is%20not%20provided');
          case '/test.Echo/Reset':
            return stream.close(http2.constants.NGHTTP2_CANCEL);
          default:
            return fail(12, 'unknown method');
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    for (const c of conns) c.close();
    await new Promise((resolve) => server.close(resolve));
  });

  const id = (b: Buffer) => b;

  it('sends the request headers a gRPC server expects', async () => {
    const c = await open();
    const headers = JSON.parse((await c.unary('/test.Echo/Headers', Buffer.alloc(0), id)).toString());
    expect(headers).toMatchObject({
      ':method': 'POST',
      ':scheme': 'http',
      ':path': '/test.Echo/Headers',
      ':authority': endpoint,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
  });

  it('round-trips messages of every size, many at once, within the flow-control windows', async () => {
    const c = await open();
    // Requests split over frames, larger than a stream window (64 KB), and twenty at once that
    // exceed the connection window.
    const sizes = [0, 1, 300, 16379, 16380, 40000, 200000, ...Array.from({ length: 20 }, () => 40000)];
    const messages = sizes.map((n, i) => Buffer.alloc(n, i));
    const answers = await Promise.all(messages.map((m) => c.unary('/test.Echo/Echo', m, id)));
    answers.forEach((a, i) => expect(a.equals(messages[i])).toBe(true));
    // Responses larger than our stream window and, together, the connection's.
    for (let i = 0; i < 3; i++)
      expect((await c.unary('/test.Echo/Big', Buffer.alloc(0), id)).length).toBe(10 << 20);
  });

  it('reads grpc-status and grpc-message, Huffman-coded or not', async () => {
    const c = await open();
    const printable = await c.unary('/test.Echo/Printable', Buffer.alloc(0), id).catch((e) => e);
    expect(printable).toBeInstanceOf(CallError);
    expect(printable.code).toBe(5);
    expect(printable.details).toBe(PRINTABLE);
    const escaped = await c.unary('/test.Echo/Escaped', Buffer.alloc(0), id).catch((e) => e);
    expect([escaped.code, escaped.details]).toEqual([3, 'key is not provided']);
    const unknown = await c.unary('/test.Echo/Nope', Buffer.alloc(0), id).catch((e) => e);
    expect([unknown.code, unknown.details]).toEqual([12, 'unknown method']);
    // The connection still works after errors.
    expect((await c.unary('/test.Echo/Echo', Buffer.from('x'), id)).toString()).toBe('x');
  });

  it('sends the token with every later call', async () => {
    const c = await open();
    c.useToken('tok.en-1');
    expect((await c.unary('/test.Echo/Token', Buffer.alloc(0), id)).toString()).toBe('tok.en-1');
  });

  it('fails a reset stream, and every call once the connection is gone', async () => {
    const c = await open();
    const reset = await c.unary('/test.Echo/Reset', Buffer.alloc(0), id).catch((e) => e);
    expect(reset).toBeInstanceOf(CallError);
    expect(reset.details).toMatch(/stream reset by the server \(code 8\)/);
    c.close();
    await expect(c.unary('/test.Echo/Echo', Buffer.from('x'), id)).rejects.toThrow(/closed/);
  });

  it('refuses to connect where nothing listens', async () => {
    const c = new FrameConn('127.0.0.1:1');
    await expect(c.ready(2000)).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('HPACK header blocks', () => {
  it('builds a request block of static-table fields and literals', () => {
    const block = requestHeaderBlock('/p', 'h:1');
    expect([...block.subarray(0, 2)]).toEqual([0x83, 0x86]); // :method POST, :scheme http
    expect(block.includes(Buffer.from('application/grpc'))).toBe(true);
    expect(requestHeaderBlock('/p', 'h:1', 't').length).toBe(block.length + 1 + 6 + 2);
  });

  it('finds grpc-status and grpc-message written every way HPACK allows', () => {
    const raw = (s: string) => [s.length, ...Buffer.from(s)];
    const huff = (s: string) => {
      const b = huffmanEncode(s);
      return [0x80 | b.length, ...b];
    };
    const call: { status?: number; message?: string } = {};
    // Size update, :status 200 (indexed), a literal with a static name, with incremental
    // indexing and a Huffman-coded name, never indexed with a raw name.
    scanHeaderBlock(
      Buffer.from([0x20, 0x88, 0x0f, 0x10, ...raw('application/grpc'), 0x40, ...huff('grpc-status'), ...raw('14'),
        0x10, ...raw('grpc-message'), ...huff('no%20leader')]), // prettier-ignore
      call,
    );
    expect(call).toEqual({ status: 14, message: 'no leader' });
  });

  it('refuses references to the dynamic table it asked the server not to use', () => {
    expect(() => scanHeaderBlock(Buffer.from([0xbe]), {})).toThrow(/index 62 outside the static table/);
    expect(() => scanHeaderBlock(Buffer.from([0x7f, 0x00, 0x01, 0x30]), {})).toThrow(
      /outside the static table/,
    );
    expect(() => scanHeaderBlock(Buffer.from([0x00, 0x05, 0x61]), {})).toThrow(/truncated/);
  });
});
