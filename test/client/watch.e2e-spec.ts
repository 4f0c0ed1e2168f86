// Watch through the SDK: iteration and events, resume after a cut connection and after a member
// restart without loss or duplicates, failover of a watch and a lease keep-alive when their member
// is killed, compaction as a typed error.
// Runs against both targets of test/support/targets.ts: 3-member etcd 3.4 and Cairn clusters.
import { CairnClient, CompactedError, WatchEvent, Watcher } from '../../libs/client/src';
import { TARGET_KINDS, Target, agreedLeader, startTarget } from '../support/targets';
import { TcpProxy, startProxy } from '../support/tcp-proxy';

jest.setTimeout(60_000);

/** Collects a watcher's events until `n` have arrived. */
function collect(w: Watcher, n: number): Promise<WatchEvent[]> {
  return new Promise((ok, fail) => {
    const out: WatchEvent[] = [];
    w.on('event', (ev) => (out.push(ev), out.length === n && ok(out)));
    w.once('error', fail);
  });
}

const once = <T>(w: Watcher, event: string) => new Promise<T>((ok) => w.once(event, ok));
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

describe.each(TARGET_KINDS)('client Watch against %s', (kind) => {
  let target: Target;
  let client: CairnClient;

  beforeAll(async () => {
    target = await startTarget(kind);
    client = new CairnClient({ endpoints: target.endpoints });
  });
  afterAll(async () => {
    client?.close();
    await target?.stop();
  });

  /** The index in target.members of the member with this id. */
  const memberIndex = async (id: bigint) => {
    const ids = await Promise.all(target.endpoints.map((e) => client.maintenance.status(e)));
    const i = ids.findIndex((s) => s.header.memberId === id);
    expect(i).toBeGreaterThanOrEqual(0);
    return i;
  };

  it('delivers puts and deletes of a prefix through the async iterator, with prevKv', async () => {
    const w = client.watch('it/', { prefix: true, prevKv: true });
    const seen: WatchEvent[] = [];
    const done = (async () => {
      for await (const ev of w) {
        seen.push(ev);
        if (seen.length === 3) break;
      }
    })();
    await w.ready;
    await client.kv.put('it/a', '1');
    await client.kv.put('other', 'x');
    await client.kv.put('it/a', '2');
    await client.kv.delete('it/a');
    await done;
    expect(seen.map((e) => [e.type, e.kv.keyString, e.kv.valueString])).toEqual([
      ['put', 'it/a', '1'],
      ['put', 'it/a', '2'],
      ['delete', 'it/a', ''],
    ]);
    expect(seen[1].prevKv?.valueString).toBe('1');
    await w.cancel();
  });

  it('replays history from a start revision and honours filters', async () => {
    const first = (await client.kv.put('h/k', 'a')).header.revision;
    await client.kv.delete('h/k');
    await client.kv.put('h/k', 'b');
    const w = client.watch('h/k', { startRevision: first, filters: ['nodelete'] });
    const events = await collect(w, 2);
    expect(events.map((e) => e.kv.valueString)).toEqual(['a', 'b']);
    await w.cancel();
  });

  it('resumes after its connection is cut without losing or duplicating events', async () => {
    const proxy: TcpProxy = await startProxy(target.endpoints[1]);
    const watching = new CairnClient({ endpoints: [proxy.endpoint] });
    const w = watching.watch('cut/', { prefix: true });
    const all = collect(w, 30);
    await w.ready;
    for (let i = 0; i < 10; i++) await client.kv.put(`cut/${i}`, `${i}`);
    proxy.refuse = true;
    const disconnected = once(w, 'disconnected');
    proxy.cut();
    await disconnected;
    for (let i = 10; i < 20; i++) await client.kv.put(`cut/${i}`, `${i}`);
    const reconnected = once(w, 'connected');
    proxy.refuse = false;
    await reconnected;
    for (let i = 20; i < 30; i++) await client.kv.put(`cut/${i}`, `${i}`);
    const events = await all;
    expect(events.map((e) => e.kv.keyString)).toEqual(Array.from({ length: 30 }, (_, i) => `cut/${i}`));
    watching.close();
    await proxy.close();
  });

  it('resumes after its member restarts without losing or duplicating events', async () => {
    const w = client.watch('rs/', { prefix: true });
    const all = collect(w, 20);
    const i = await memberIndex((await w.ready).memberId);
    for (let i = 0; i < 10; i++) await client.kv.put(`rs/${i}`, `${i}`);
    const disconnected = once(w, 'disconnected');
    target.members[i] = await target.members[i].restart();
    await disconnected;
    await agreedLeader(target); // a restarted leader leaves the others to elect one
    for (let i = 10; i < 20; i++) await client.kv.put(`rs/${i}`, `${i}`);
    const events = await all;
    expect(events.map((e) => e.kv.keyString)).toEqual(Array.from({ length: 20 }, (_, i) => `rs/${i}`));
    expect(new Set(events.map((e) => e.revision)).size).toBe(20);
    await w.cancel();
  });

  it('fails with CompactedError when its start revision was compacted', async () => {
    const r = (await client.kv.put('cp/k', '1')).header.revision;
    await client.kv.put('cp/k', '2');
    await client.kv.compact(r + 1);
    const w = client.watch('cp/k', { startRevision: r });
    const iteration = (async () => {
      for await (const _ of w) {
        // no event may arrive before the failure
      }
    })();
    const err = await iteration.catch((e) => e);
    expect(err).toBeInstanceOf(CompactedError);
    expect(err.compactRevision).toBe(r + 1);
  });

  it('fails over when the leader its watch and lease keep-alive use is killed: no event lost or repeated, the lease lives', async () => {
    // The victim is the leader, the hardest case: an election follows. A client starts on its first
    // endpoint and moves to the next with each call or stream: the watch (1st), a read (2nd), the
    // grant (3rd) and then the keep-alive stream (4th) are on the victim.
    const victim = await agreedLeader(target);
    const endpoints = target.endpoints.map(
      (_, i) => target.endpoints[(victim + i) % target.endpoints.length],
    );
    const c = new CairnClient({ endpoints });
    try {
      const w = c.watch('fo/', { prefix: true });
      const all = collect(w, 21);
      expect(await memberIndex((await w.ready).memberId)).toBe(victim);
      await c.kv.get('fo/none');
      // Long enough to outlast the election.
      const lease = await c.lease.grant(5);
      await new Promise((ok) => lease.once('keepalive', ok));
      await client.kv.put('fo/leased', 'v', { lease: lease.id });
      for (let i = 0; i < 10; i++) await client.kv.put(`fo/${i}`, `${i}`);

      const killedAt = Date.now();
      await target.members[victim].kill('SIGKILL');
      await agreedLeader(target); // among the survivors
      for (let i = 10; i < 20; i++) await client.kv.put(`fo/${i}`, `${i}`);
      const events = await all;
      expect(events.map((e) => e.kv.keyString)).toEqual([
        'fo/leased',
        ...Array.from({ length: 20 }, (_, i) => `fo/${i}`),
      ]);
      expect(new Set(events.map((e) => e.revision)).size).toBe(21);

      // Renewed through another member for longer than the TTL: the lease and its key stay.
      let renewals = 0;
      lease.on('keepalive', () => renewals++);
      while (renewals < 2 || Date.now() - killedAt < lease.ttl * 1000 + 1000) await sleep(200);
      expect(lease.lost).toBe(false);
      expect((await c.lease.timeToLive(lease.id)).ttl).toBeGreaterThan(0);
      expect((await client.kv.get('fo/leased'))?.lease).toBe(lease.id);
      await lease.revoke();
      await w.cancel();
    } finally {
      c.close();
      target.members[victim] = await target.members[victim].restart();
    }
  });
});
