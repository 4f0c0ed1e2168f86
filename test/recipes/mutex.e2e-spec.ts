// Mutex: mutual exclusion under contention, FIFO hand-over to the direct successor, tryLock, fencing,
// a killed holder freeing the lock after its TTL, and interoperation with `etcdctl lock`.
// Runs against both targets of test/support/targets.ts: 3-member etcd 3.4 and Cairn clusters.
import { CairnClient, op } from '../../libs/client/src';
import { LockedError, Mutex, Session } from '../../libs/recipes/src';
import { TARGET_KINDS, Target, startTarget } from '../support/targets';
import { etcdctl, killChildren, nodeChild } from './processes';

jest.setTimeout(90_000);

describe.each(TARGET_KINDS)('Mutex against %s', (kind) => {
  let target: Target;
  let client: CairnClient;
  const open: Array<{ close(): unknown }> = [];

  const newSession = async (ttl = 10) => {
    const c = new CairnClient({ endpoints: target.endpoints });
    const s = await Session.create(c, { ttl });
    open.push({ close: () => s.close().catch(() => undefined) }, c);
    return s;
  };

  beforeAll(async () => {
    target = await startTarget(kind);
    client = new CairnClient({ endpoints: target.endpoints });
  });
  afterAll(async () => {
    killChildren();
    for (const o of open.reverse()) await o.close();
    client?.close();
    await target?.stop();
  });

  it('uses the Go client key layout <name>/<lease id hex>', async () => {
    const s = await newSession();
    const m = new Mutex(s, 'layout');
    await m.lock();
    const keys = await client.kv.prefix('layout/');
    expect(keys.kvs.map((k) => k.keyString)).toEqual([`layout/${s.leaseId.toString(16)}`]);
    expect(keys.kvs[0].lease).toBe(s.leaseId);
    expect(m.fencingToken).toBe(keys.kvs[0].createRevision);
    await m.unlock();
    expect((await client.kv.prefix('layout/')).count).toBe(0);
  });

  it('excludes contenders: concurrent read-modify-write under the lock loses no update', async () => {
    const workers = 4;
    const rounds = 5;
    await client.kv.put('counter', '0');
    let inside = 0;
    let maxInside = 0;
    await Promise.all(
      Array.from({ length: workers }, async () => {
        const m = new Mutex(await newSession(), 'contended');
        for (let i = 0; i < rounds; i++) {
          await m.withLock(async () => {
            maxInside = Math.max(maxInside, ++inside);
            const n = Number((await m.session.client.kv.get('counter'))!.valueString);
            await new Promise((ok) => setImmediate(ok)); // let the others run while we hold the lock
            const res = await m
              .fencedTxn()
              .then(op.put('counter', String(n + 1)))
              .commit();
            expect(res.succeeded).toBe(true);
            inside--;
          });
        }
      }),
    );
    expect((await client.kv.get('counter'))!.valueString).toBe(String(workers * rounds));
    expect(maxInside).toBe(1);
  });

  it('excludes contending processes: fenced critical sections never overlap in the revision order', async () => {
    const [workers, rounds] = [3, 6];
    await client.kv.put('procs/counter', '0');
    // Each section's first and last writes are fenced; their revisions bound the section in the
    // cluster's one order of changes, so two overlapping sections would interleave there.
    const children = Array.from({ length: workers }, (_, w) =>
      nodeChild(
        target.endpoints,
        `const s = await recipes.Session.create(c, { ttl: 5 });
         const m = new recipes.Mutex(s, 'procs-lock');
         const put = (k, v) => m.fencedTxn().then(client.op.put(k, v)).commit();
         for (let i = 0; i < ${rounds}; i++) {
           await m.lock();
           const enter = await put('procs/holder', '${w}');
           const n = Number((await c.kv.get('procs/counter')).valueString);
           await new Promise((ok) => setTimeout(ok, 5)); // hold the lock while the others wait
           const exit = await put('procs/counter', String(n + 1));
           console.log('SECTION', enter.succeeded && exit.succeeded, enter.header.revision, exit.header.revision);
           await m.unlock();
         }
         await s.close();
         c.close();`,
      ),
    );
    expect(await Promise.all(children.map((ch) => ch.exited))).toEqual(children.map(() => 0));
    const sections = children
      .flatMap((ch) => [...ch.output().matchAll(/^SECTION (\w+) (\d+) (\d+)$/gm)])
      .map(([, fenced, enter, exit]) => ({ fenced, enter: Number(enter), exit: Number(exit) }))
      .sort((a, b) => a.enter - b.enter);
    expect(sections).toHaveLength(workers * rounds);
    expect(sections.every((x) => x.fenced === 'true')).toBe(true);
    for (let i = 1; i < sections.length; i++) expect(sections[i].enter).toBeGreaterThan(sections[i - 1].exit);
    expect((await client.kv.get('procs/counter'))!.valueString).toBe(String(workers * rounds));
  });

  it('hands the lock to the direct successor, in order; tryLock fails while it is held', async () => {
    const [a, b, c] = [
      new Mutex(await newSession(), 'fifo'),
      new Mutex(await newSession(), 'fifo'),
      new Mutex(await newSession(), 'fifo'),
    ];
    await a.lock();
    await expect(c.tryLock()).rejects.toBeInstanceOf(LockedError);
    expect((await client.kv.prefix('fifo/')).count).toBe(1); // tryLock left no key behind
    const order: string[] = [];
    const bLocked = b.lock().then(() => order.push('b'));
    while ((await client.kv.prefix('fifo/')).count < 2) await new Promise((ok) => setTimeout(ok, 10));
    const cLocked = c.lock().then(() => order.push('c'));
    while ((await client.kv.prefix('fifo/')).count < 3) await new Promise((ok) => setTimeout(ok, 10));
    await a.unlock();
    await bLocked;
    expect(order).toEqual(['b']); // c waits for b, its direct predecessor
    await b.unlock();
    await cLocked;
    expect(order).toEqual(['b', 'c']);
    await c.unlock();
    await a.tryLock();
    await a.unlock();
  });

  it('fences a holder whose session expired: its guarded txn fails, the next holder has a larger token', async () => {
    const sa = await newSession();
    const a = new Mutex(sa, 'fence');
    await a.lock();
    const tokenA = a.fencingToken;
    await client.lease.revoke(sa.leaseId); // as if a's lease expired while a was paused
    const b = new Mutex(await newSession(), 'fence');
    await b.lock();
    const stale = await a.fencedTxn().then(op.put('fenced', 'a')).commit();
    expect(stale.succeeded).toBe(false);
    expect(b.fencingToken).toBeGreaterThan(tokenA);
    expect((await b.fencedTxn().then(op.put('fenced', 'b')).commit()).succeeded).toBe(true);
    await b.unlock();
  });

  it('is freed after the TTL when its holder process is killed', async () => {
    const child = nodeChild(
      target.endpoints,
      `const s = await recipes.Session.create(c, { ttl: 2 });
       const m = new recipes.Mutex(s, 'killed');
       await m.lock();
       console.log('LOCKED ' + m.key);`,
    );
    await child.waitFor(/LOCKED/);
    const m = new Mutex(await newSession(), 'killed');
    await expect(m.tryLock()).rejects.toBeInstanceOf(LockedError);
    child.child.kill('SIGKILL');
    await m.lock(); // waits until the dead holder's lease expires
    expect(m.isHeld).toBe(true);
    await m.unlock();
  });

  it('excludes etcdctl lock on the same name, both ways', async () => {
    // etcdctl holds the lock: we cannot take it until etcdctl releases it.
    const holder = etcdctl(target.endpoints, 'lock', 'shared');
    const [, etcdKey] = await holder.waitFor(/^(shared\/[0-9a-f]+)$/m);
    const m = new Mutex(await newSession(), 'shared');
    await expect(m.tryLock()).rejects.toBeInstanceOf(LockedError);
    const ours = m.lock();
    while ((await client.kv.prefix('shared/')).count < 2) await new Promise((ok) => setTimeout(ok, 10));
    holder.child.kill('SIGINT');
    await ours;
    expect(await client.kv.get(etcdKey)).toBeUndefined();

    // We hold the lock: etcdctl's command only runs after we release it.
    const waiter = etcdctl(target.endpoints, 'lock', 'shared', 'echo', 'ETCDCTL-RAN');
    while ((await client.kv.prefix('shared/')).count < 2) await new Promise((ok) => setTimeout(ok, 10));
    expect(waiter.output()).not.toContain('ETCDCTL-RAN');
    await m.unlock();
    expect(await waiter.exited).toBe(0);
    expect(waiter.output()).toContain('ETCDCTL-RAN');
  });
});
