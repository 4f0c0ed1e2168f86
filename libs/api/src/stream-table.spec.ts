import * as http2 from 'node:http2';
import { AddressInfo } from 'node:net';
import { KeyTable } from '../../storage/src';
import { useStreamTables } from './stream-table';

describe('useStreamTables', () => {
  let server: http2.Http2Server;
  let port: number;
  const opened: http2.ServerHttp2Stream[] = [];
  const sessions: http2.ServerHttp2Session[] = [];
  let tables: ReturnType<typeof useStreamTables>;

  beforeAll(async () => {
    server = http2.createServer();
    tables = useStreamTables(server);
    server.on('session', (session) => sessions.push(session));
    server.on('stream', (stream, headers) => {
      opened.push(stream);
      // 'hold' streams stay open until the test closes the session.
      if (headers[':path'] !== '/hold') stream.respond({ ':status': 200 }, { endStream: true });
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    port = (server.address() as AddressInfo).port;
  });

  const clients: http2.ClientHttp2Session[] = [];
  afterAll(() => {
    for (const c of clients) c.destroy();
    return new Promise<void>((ok) => server.close(() => ok()));
  });

  function request(client: http2.ClientHttp2Session, path: string): Promise<number | undefined> {
    return new Promise((ok) => {
      const req = client.request({ ':path': path });
      req.on('response', (h) => ok(h[':status']));
      req.on('close', () => ok(undefined));
      req.on('error', () => undefined);
      req.end();
    });
  }

  it("serves calls with every session's streams in a KeyTable, and closes the streams a session still has", async () => {
    const client = http2.connect(`http://127.0.0.1:${port}`);
    clients.push(client);
    const statuses = await Promise.all(Array.from({ length: 50 }, () => request(client, '/call')));
    expect(statuses).toEqual(Array(50).fill(200));
    expect(tables.installed()).toBe(true);
    const session = sessions[0];
    const state = Object.getOwnPropertySymbols(session).find((s) => s.description === 'state')!;
    const streams = (session as unknown as Record<symbol, { streams: unknown }>)[state].streams;
    expect(streams).toBeInstanceOf(KeyTable);
    expect((streams as KeyTable<number, unknown>).size).toBe(0);

    // Two streams left open: destroying the session goes through the table to destroy them.
    const held = [request(client, '/hold'), request(client, '/hold')];
    while ((streams as KeyTable<number, unknown>).size < 2) await new Promise((r) => setTimeout(r, 5));
    const holding = opened.slice(-2);
    session.destroy();
    await Promise.all(held);
    expect(holding.map((s) => s.destroyed)).toEqual([true, true]);
    expect((streams as KeyTable<number, unknown>).size).toBe(0);
    client.destroy();
  });
});
