// 1,000 watchers on one member while one stream never reads: every other watcher keeps
// receiving every event, the bytes the member holds for the stalled stream stay bounded (its
// watchers are moved aside instead of buffered), and once the stream reads again it catches up
// from history with nothing missing or repeated. The member runs in this process (real RocksDB,
// real gRPC on loopback) so the test can read its watch buffer accounting.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WATCH_STREAM_HIGH_WATER_BYTES, startGrpcServers, watchBufferedBytes } from '../../libs/api/src';
import { Member, silentLogger } from '../../libs/server/src';
import { EtcdApi, connect } from '../support/etcd-api';
import { freePort } from '../support/members';
import { WatchClient, openWatch, watchChannel } from '../support/watch-client';

jest.setTimeout(300_000);

const SLOW_WATCHERS = 50;
const FAST_STREAMS = 10;
const FAST_PER_STREAM = 95;
const ROUNDS = 100;
// Each round sends every slow watcher this much: buffered without bound, the stalled stream
// would hold SLOW_WATCHERS * ROUNDS * VALUE_BYTES = 250 MB of responses.
const VALUE_BYTES = 50 * 1024;
const MAX_REQUEST_BYTES = 1.5 * 1024 * 1024;

const b = (s: string) => Buffer.from(s);

describe('a stream that never reads', () => {
  let dir: string;
  let member: Member;
  let servers: { close(): Promise<void> };
  let endpoint: string;
  let api: EtcdApi;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cairn-slow-watch-'));
    const [client, peer] = [await freePort(), await freePort()];
    member = await Member.start({
      name: 'm1',
      dataDir: dir,
      initialCluster: { m1: [`http://127.0.0.1:${peer}`] },
      initialClusterToken: 'etcd-cluster',
      maxRequestBytes: MAX_REQUEST_BYTES,
      maxTxnOps: 128,
    });
    servers = await startGrpcServers(member, {
      listeners: [{ host: '127.0.0.1', port: client }],
      limits: { maxTxnOps: 128, maxRequestBytes: MAX_REQUEST_BYTES },
      logger: silentLogger,
    });
    endpoint = `127.0.0.1:${client}`;
    api = connect(endpoint);
  });
  const streams: WatchClient[] = [];
  let channel: ReturnType<typeof watchChannel> | undefined;
  afterAll(async () => {
    streams.forEach((w) => w.close());
    channel?.close();
    api?.close();
    await servers?.close();
    await member?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const eventsOf = (w: WatchClient) => {
    const per = new Map<string, string[]>();
    for (const r of w.responses) {
      for (const ev of r.events) {
        const list = per.get(r.watch_id) ?? [];
        list.push(ev.kv.key.toString());
        per.set(r.watch_id, list);
      }
    }
    return per;
  };
  const keys = (prefix: string) =>
    Array.from({ length: ROUNDS }, (_, i) => `${prefix}${String(i).padStart(4, '0')}`);

  it('neither stalls the other 950 watchers nor makes the member buffer without bound', async () => {
    // The stalled stream on its own connection, as a separate client would be.
    const slow = openWatch(endpoint);
    streams.push(slow);
    for (let i = 0; i < SLOW_WATCHERS; i++)
      slow.send({ create_request: { key: b('big/'), range_end: b('big0') } });
    await slow.waitFor((rs) => rs.filter((r) => r.created).length === SLOW_WATCHERS);
    slow.pause();

    channel = watchChannel(endpoint);
    const fast: WatchClient[] = [];
    for (let s = 0; s < FAST_STREAMS; s++) {
      const w = openWatch(endpoint, { channel });
      streams.push(w);
      for (let i = 0; i < FAST_PER_STREAM; i++)
        w.send({ create_request: { key: b('small/'), range_end: b('small0') } });
      fast.push(w);
    }
    await Promise.all(
      fast.map((w) => w.waitFor((rs) => rs.filter((r) => r.created).length === FAST_PER_STREAM)),
    );
    expect(member.watchHub.counts).toEqual({
      synced: SLOW_WATCHERS + FAST_STREAMS * FAST_PER_STREAM,
      unsynced: 0,
    });

    let peak = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const n = String(i).padStart(4, '0');
      await api.kv.Txn({
        success: [
          { request_put: { key: b(`big/${n}`), value: Buffer.alloc(VALUE_BYTES, i % 256) } },
          { request_put: { key: b(`small/${n}`), value: b(n) } },
        ],
      });
      peak = Math.max(peak, ...watchBufferedBytes());
    }

    // Every fast watcher gets every event, in order, once.
    await Promise.all(fast.map((w) => w.waitFor(() => w.eventCount() === FAST_PER_STREAM * ROUNDS, 120_000)));
    for (const w of fast) {
      const per = eventsOf(w);
      expect(per.size).toBe(FAST_PER_STREAM);
      for (const got of per.values()) expect(got).toEqual(keys('small/'));
    }
    // The stalled stream's watchers were moved aside; what the member holds for any stream is
    // its bounded buffer (plus the one response that crossed the bound), not 250 MB.
    expect(member.watchHub.counts.unsynced).toBe(SLOW_WATCHERS);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThan(WATCH_STREAM_HIGH_WATER_BYTES + 2 * VALUE_BYTES);

    // Reading again, the stalled stream catches up from history: all events, in order, once.
    slow.resume();
    await slow.waitFor(() => slow.eventCount() >= SLOW_WATCHERS * ROUNDS, 120_000);
    const per = eventsOf(slow);
    expect(per.size).toBe(SLOW_WATCHERS);
    for (const got of per.values()) expect(got).toEqual(keys('big/'));
    expect(member.watchHub.counts).toEqual({
      synced: SLOW_WATCHERS + FAST_STREAMS * FAST_PER_STREAM,
      unsynced: 0,
    });
  });
});
