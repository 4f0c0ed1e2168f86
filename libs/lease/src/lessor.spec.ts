import * as fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, MvccStore } from '../../storage/src';
import { LeaseError } from './errors';
import { ExpiryHeap } from './expiry-heap';
import { LeaseIdGenerator } from './lease-id';
import { Lessor, MAX_LEASE_TTL, REVOKE_RETRY_MS, minLeaseTtl } from './lessor';

const b = (s: string) => Buffer.from(s);
const MAX_INT64 = (1n << 63n) - 1n;

describe('Lessor', () => {
  let dir: string;
  let engine: Engine | undefined;
  let store: MvccStore;
  let clock: number;
  const open = async (minTtl = 2) => {
    const opened = await Engine.open(dir);
    engine = opened;
    store = await MvccStore.open(opened);
    return Lessor.load(opened, store, { minTtl, now: () => clock });
  };
  const reopen = async (lessor: Lessor) => {
    store.flush(lessor.takeOps());
    await engine?.close();
    return open();
  };
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return err instanceof LeaseError ? err.code : err;
    }
    return 'no error';
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cairn-lessor-'));
    clock = 1_000_000;
    engine = undefined;
  });
  afterEach(async () => {
    await engine?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('derives the minimum TTL from the election timeout as etcd does', () => {
    expect(minLeaseTtl(100, 1000)).toBe(2);
    expect(minLeaseTtl(50, 500)).toBe(1);
    expect(minLeaseTtl(100, 3000)).toBe(5);
  });

  it('grants with the minimum and maximum TTL and refuses duplicates and id 0', async () => {
    const lessor = await open();
    expect(lessor.grant(5n, 1)).toBe(2);
    expect(lessor.grant(6n, -7)).toBe(2);
    expect(lessor.grant(7n, MAX_LEASE_TTL)).toBe(MAX_LEASE_TTL);
    expect(code(() => lessor.grant(8n, MAX_LEASE_TTL + 1))).toBe('ttl-too-large');
    expect(code(() => lessor.grant(5n, 100))).toBe('exists');
    expect(code(() => lessor.grant(0n, 100))).toBe('not-found');
    expect(lessor.exists(8n)).toBe(false);
    expect(lessor.timeToLive(5n, false)).toEqual({ remaining: 2, granted: 2, keys: [] });
  });

  it('persists leases (full int64 ids) and re-attaches their keys from the store at load', async () => {
    let lessor = await open();
    lessor.grant(MAX_INT64, 100);
    lessor.grant(-3n, 50);
    lessor.grant(9n, 10);
    store.put({ key: b('b'), value: b('1'), lease: MAX_INT64 });
    store.put({ key: b('a'), value: b('1'), lease: MAX_INT64 });
    store.put({ key: b('c'), value: b('1'), lease: -3n });
    // Moving a key to another lease detaches it from the first; a plain put detaches it.
    store.put({ key: b('d'), value: b('1'), lease: 9n });
    store.put({ key: b('d'), value: b('2'), lease: -3n });
    store.put({ key: b('e'), value: b('1'), lease: 9n });
    store.put({ key: b('e'), value: b('2') });
    // ignore_lease keeps the key's lease.
    store.put({ key: b('c'), value: b('2'), ignoreLease: true });
    expect(keysOf(lessor, 9n)).toEqual([]);
    expect(keysOf(lessor, -3n)).toEqual(['c', 'd']);

    lessor = await reopen(lessor);
    expect(lessor.list().sort()).toEqual([-3n, 9n, MAX_INT64]);
    expect(lessor.timeToLive(MAX_INT64, true)?.granted).toBe(100);
    expect(keysOf(lessor, MAX_INT64)).toEqual(['a', 'b']);
    expect(keysOf(lessor, -3n)).toEqual(['c', 'd']);
    expect(store.put.bind(store, { key: b('x'), value: b(''), lease: 12n })).toThrow('lease not found');

    // Deletes detach; a revoke returns the remaining keys in byte order and is persisted.
    store.deleteRange({ key: b('d') });
    expect(lessor.revoke(-3n).map(String)).toEqual(['c']);
    expect(lessor.revoke(MAX_INT64).map(String)).toEqual(['a', 'b']);
    expect(code(() => lessor.revoke(MAX_INT64))).toBe('not-found');
    lessor = await reopen(lessor);
    expect(lessor.list()).toEqual([9n]);
  });

  it('expires nothing until promoted, then gives every lease its TTL plus the extension', async () => {
    const lessor = await open();
    lessor.grant(1n, 10);
    lessor.grant(2n, 20);
    clock += 60_000;
    expect(lessor.takeExpired(100)).toEqual([]);
    expect(code(() => lessor.renew(1n))).toBe('not-primary');

    lessor.promote(1_000);
    expect(lessor.timeToLive(1n, false)?.remaining).toBe(11);
    clock += 10_999;
    expect(lessor.takeExpired(100)).toEqual([]);
    clock += 1;
    expect(lessor.takeExpired(100)).toEqual([1n]);
    // Handed out once; again only if its revoke did not apply in time.
    expect(lessor.takeExpired(100)).toEqual([]);
    expect(code(() => lessor.renew(1n))).toBe('not-found');
    clock += REVOKE_RETRY_MS;
    expect(lessor.takeExpired(100)).toEqual([1n]);
    lessor.revoke(1n);

    // Keep-alives move the deadline; a lease granted on the leader counts from its grant.
    expect(lessor.renew(2n)).toBe(20);
    lessor.grant(3n, 5);
    clock += 19_999;
    expect(lessor.takeExpired(100)).toEqual([3n]);
    lessor.revoke(3n);
    expect(lessor.renew(2n)).toBe(20);
    clock += 19_999;
    expect(lessor.takeExpired(100)).toEqual([]);

    // A demoted member stops expiring; a promoted one starts from a full TTL again.
    lessor.demote();
    clock += 100_000;
    expect(lessor.takeExpired(100)).toEqual([]);
    lessor.promote(0);
    expect(lessor.timeToLive(2n, false)?.remaining).toBe(20);
    expect(lessor.renew(2n)).toBe(20);
  });

  it('hands out at most the limit of expired leases per call, soonest first', async () => {
    const lessor = await open();
    lessor.promote(0);
    for (let i = 1n; i <= 10n; i++) lessor.grant(i, Number(20n - i));
    clock += 60_000;
    expect(lessor.takeExpired(4)).toEqual([10n, 9n, 8n, 7n]);
    expect(lessor.takeExpired(100)).toEqual([6n, 5n, 4n, 3n, 2n, 1n]);
  });

  it('keeps its heap small under many keep-alives', async () => {
    const lessor = await open();
    lessor.promote(0);
    lessor.grant(1n, 10);
    for (let i = 0; i < 10_000; i++) {
      clock += 1;
      lessor.renew(1n);
    }
    clock += 9_999;
    expect(lessor.takeExpired(10)).toEqual([]);
    clock += 1;
    expect(lessor.takeExpired(10)).toEqual([1n]);
  });

  function keysOf(lessor: Lessor, id: bigint): string[] {
    return (lessor.timeToLive(id, true)?.keys ?? []).map(String).sort();
  }
});

describe('ExpiryHeap', () => {
  it('pops in expiry order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1000 })), (ats) => {
        const heap = new ExpiryHeap();
        ats.forEach((at, i) => heap.push({ id: BigInt(i), at }));
        const out: number[] = [];
        for (let item = heap.pop(); item; item = heap.pop()) out.push(item.at);
        expect(out).toEqual([...ats].sort((x, y) => x - y));
      }),
    );
  });
});

describe('LeaseIdGenerator', () => {
  it('makes distinct positive int64 ids carrying the member id', () => {
    const gen = new LeaseIdGenerator(0xffffffffffffffffn, 1_700_000_000_000);
    const ids = Array.from({ length: 1000 }, () => gen.next());
    expect(new Set(ids).size).toBe(1000);
    for (const id of ids) {
      expect(id > 0n && id <= MAX_INT64).toBe(true);
      expect(id >> 48n).toBe(0x7fffn);
    }
  });
});
