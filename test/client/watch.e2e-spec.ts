// Watch through the SDK: iteration and events, resume after a cut connection and after a member
// restart without loss or duplicates, compaction as a typed error. Runs against etcd 3.4 only until
// Cairn serves Watch (then add 'cairn' to the kinds).
import { CairnClient, CompactedError, WatchEvent, Watcher } from '../../libs/client/src';
import { MemberKind, MemberProcess, startMember } from '../support/members';
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

describe.each<MemberKind>(['etcd', 'cairn'])('client Watch against %s', (kind) => {
  let member: MemberProcess;
  let client: CairnClient;

  beforeAll(async () => {
    member = await startMember(kind);
    client = new CairnClient({ endpoints: [member.endpoint] });
  });
  afterAll(async () => {
    client?.close();
    await member?.stop();
  });

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
    const proxy: TcpProxy = await startProxy(member.endpoint);
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

  it('resumes after the member restarts without losing or duplicating events', async () => {
    const w = client.watch('rs/', { prefix: true });
    const all = collect(w, 20);
    await w.ready;
    for (let i = 0; i < 10; i++) await client.kv.put(`rs/${i}`, `${i}`);
    const disconnected = once(w, 'disconnected');
    member = await member.restart();
    await disconnected;
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
});
