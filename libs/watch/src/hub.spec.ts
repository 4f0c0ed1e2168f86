import * as fc from 'fast-check';
import { EventType, KeyValue, MvccEvent } from '../../storage/src';
import { HubFixture, StreamRecorder, spec } from './testing';
import { WatchEvent, WatchSpec } from './types';

const b = (s: string) => Buffer.from(s, 'latin1');
const summary = (evs: WatchEvent[]) =>
  evs.map((e) => `${e.type === EventType.PUT ? 'put' : 'del'} ${e.kv.key.toString()}@${e.kv.modRevision}`);

describe('WatchHub', () => {
  let f: HubFixture;
  beforeEach(async () => (f = await HubFixture.open({ chunkRevisions: 3 })));
  afterEach(() => f.close());

  it('feeds a synced watcher each batch, with its range and filters applied', async () => {
    const s = f.stream();
    s.stream.create(0n, spec('a', { end: 'c' }));
    s.stream.create(0n, spec('b'));
    s.stream.create(0n, spec('', { end: null, noPut: true }));
    f.put('a');
    f.put('b');
    f.put('c');
    f.apply((st) => st.deleteRange({ key: b('a'), rangeEnd: b('z') }));
    expect(summary(s.events(0n))).toEqual(['put a@2', 'put b@3', 'del a@5', 'del b@5']);
    expect(summary(s.events(1n))).toEqual(['put b@3', 'del b@5']);
    expect(summary(s.events(2n))).toEqual(['del a@5', 'del b@5', 'del c@5']);
    // All events of revision 5 in one reply.
    expect(s.of(0n).filter((r) => r.kind === 'events')).toHaveLength(3);
    expect(f.hub.counts).toEqual({ synced: 3, unsynced: 0 });
  });

  it('replays history in chunks, then promotes to synced without gap or duplicate', async () => {
    for (let i = 0; i < 10; i++) f.put(`k${i}`);
    const s = f.stream();
    s.stream.create(0n, spec('k', { end: 'l', startRevision: 4 }));
    expect(f.hub.counts).toEqual({ synced: 0, unsynced: 1 });
    f.put('k-during');
    await f.settle();
    f.put('k-after');
    expect(s.events(0n).map((e) => e.kv.modRevision)).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    // Bounded chunks: no reply spans more than 3 revisions.
    for (const r of s.of(0n)) {
      if (r.kind !== 'events') continue;
      const revs = r.events.map((e) => e.kv.modRevision);
      expect(Math.max(...revs) - Math.min(...revs)).toBeLessThan(3);
    }
    expect(f.hub.counts).toEqual({ synced: 1, unsynced: 0 });
    expect(s.replies[0]).toEqual({ kind: 'created', watchId: 0n, revision: 11 });
  });

  it('starts a watch at a future revision only from that revision', () => {
    const s = f.stream();
    s.stream.create(0n, spec('k', { startRevision: 4 }));
    f.put('k');
    f.put('k');
    f.put('k');
    expect(s.events(0n).map((e) => e.kv.modRevision)).toEqual([4]);
  });

  it('attaches prev_kv from history: none for a create, the last version for updates and deletes', async () => {
    f.put('k', 'one');
    f.put('k', 'two');
    const s = f.stream();
    s.stream.create(0n, spec('k', { prevKv: true, startRevision: 2 }));
    await f.settle();
    f.apply((st) => st.deleteRange({ key: b('k') }));
    const evs = s.events(0n);
    expect(evs.map((e) => e.prevKv?.value.toString())).toEqual([undefined, 'one', 'two']);
    expect(evs[2].prevKv?.modRevision).toBe(3);
  });

  it('cancels a watcher whose start revision is compacted, with the compact revision', async () => {
    for (let i = 0; i < 5; i++) f.put('k');
    await f.store.compact(4).done;
    const s = f.stream();
    s.stream.create(0n, spec('k', { startRevision: 3 }));
    s.stream.create(0n, spec('k', { startRevision: 4 }));
    await f.settle();
    expect(s.of(0n).at(-1)).toEqual({ kind: 'compacted', watchId: 0n, compactRevision: 4 });
    expect(summary(s.events(1n))).toEqual(['put k@4', 'put k@5', 'put k@6']);
    expect(f.hub.counts).toEqual({ synced: 1, unsynced: 0 });
  });

  it('after the store jumped ahead unpublished (a snapshot installed), synced watchers catch up exactly once', async () => {
    const s = f.stream();
    s.stream.create(0n, spec('k'));
    s.stream.create(0n, spec('k', { startRevision: 8 }));
    f.put('k');
    // Written without publishing, as a snapshot install replaces the store underneath.
    for (let i = 0; i < 4; i++) {
      f.store.put({ key: b('k'), value: b(`s${i}`) });
      f.store.flush();
    }
    f.hub.resync();
    await f.settle();
    f.put('k');
    expect(s.events(0n).map((e) => e.kv.modRevision)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(s.events(1n).map((e) => e.kv.modRevision)).toEqual([]);
    f.put('k');
    expect(s.events(1n).map((e) => e.kv.modRevision)).toEqual([8]);
    expect(f.hub.counts).toEqual({ synced: 2, unsynced: 0 });
  });

  it('moves a watcher of a full stream aside; it catches up from history once the stream drains', async () => {
    const slow = f.stream();
    const fast = f.stream();
    slow.stream.create(0n, spec('k'));
    fast.stream.create(0n, spec('k'));
    f.put('k');
    slow.setReady(false);
    for (let i = 0; i < 8; i++) f.put('k');
    expect(f.hub.counts).toEqual({ synced: 1, unsynced: 1 });
    expect(slow.events(0n)).toHaveLength(1);
    expect(fast.events(0n)).toHaveLength(9);
    slow.setReady(true);
    await f.settle();
    f.put('k');
    expect(slow.events(0n).map((e) => e.kv.modRevision)).toEqual(
      fast.events(0n).map((e) => e.kv.modRevision),
    );
    expect(f.hub.counts).toEqual({ synced: 2, unsynced: 0 });
  });

  it('cancels a moved-aside watcher whose catch-up position was compacted meanwhile', async () => {
    const slow = f.stream();
    slow.stream.create(0n, spec('k'));
    slow.setReady(false);
    for (let i = 0; i < 5; i++) f.put('k');
    await f.store.compact(5).done;
    slow.setReady(true);
    await f.settle();
    expect(slow.replies.at(-1)).toEqual({ kind: 'compacted', watchId: 0n, compactRevision: 5 });
    expect(f.hub.counts).toEqual({ synced: 0, unsynced: 0 });
  });

  it('sends progress notifications only to idle synced watchers that asked', async () => {
    const s = f.stream({ progressNotifyIntervalMs: 20 });
    s.stream.create(0n, spec('a', { progressNotify: true }));
    s.stream.create(0n, spec('b'));
    f.put('a');
    f.put('a');
    while (!s.replies.some((r) => r.kind === 'progress')) await new Promise((r) => setTimeout(r, 5));
    s.stream.close();
    expect(s.of(1n).filter((r) => r.kind === 'progress')).toHaveLength(0);
    expect(s.of(0n).find((r) => r.kind === 'progress')).toEqual({
      kind: 'progress',
      watchId: 0n,
      revision: 3,
    });
  });
});

describe('WatchStream', () => {
  let f: HubFixture;
  beforeEach(async () => (f = await HubFixture.open()));
  afterEach(() => f.close());

  it('assigns ids from 0, skipping ids the client chose, and refuses duplicates and empty ranges', () => {
    const s: StreamRecorder = f.stream();
    s.stream.create(0n, spec('a'));
    s.stream.create(1n, spec('a'));
    s.stream.create(0n, spec('a'));
    s.stream.create(1n, spec('a'));
    s.stream.create(0n, spec('b', { end: 'a' }));
    s.stream.cancel(42n);
    s.stream.cancel(2n);
    s.stream.progress();
    expect(s.replies).toEqual([
      { kind: 'created', watchId: 0n, revision: 1 },
      { kind: 'created', watchId: 1n, revision: 1 },
      { kind: 'created', watchId: 2n, revision: 1 },
      { kind: 'refused', reason: 'mvcc: duplicate watch ID provided on the WatchStream', revision: 1 },
      { kind: 'refused', reason: 'mvcc: watcher range is empty', revision: 1 },
      { kind: 'canceled', watchId: 2n, revision: 1 },
      { kind: 'progress', watchId: -1n, revision: 1 },
    ]);
    expect(f.hub.counts.synced).toBe(2);
    s.stream.close();
    expect(f.hub.counts.synced).toBe(0);
  });
});

// ---- property: every watcher gets exactly what a replay of the history gives ----

const KEYS = ['a', 'ab', 'b', 'c'];
const keyArb = fc.constantFrom(...KEYS);
const ranges = fc.constantFrom<[string, string | null | undefined]>(
  ['a', undefined],
  ['ab', undefined],
  ['a', 'b'],
  ['a', 'c'],
  ['b', null],
  ['', null],
);

type Step =
  | { op: 'put'; keys: string[] }
  | { op: 'del'; key: string; end?: string }
  | { op: 'compact'; back: number }
  | {
      op: 'watch';
      stream: number;
      range: [string, string | null | undefined];
      back: number;
      noPut: boolean;
      noDelete: boolean;
      prevKv: boolean;
    }
  | { op: 'slow'; stream: number; ready: boolean }
  | { op: 'yield' };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('put' as const),
      keys: fc.uniqueArray(keyArb, { minLength: 1, maxLength: 3 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('del' as const),
      key: keyArb,
      end: fc.option(fc.constantFrom('b', 'c', 'd'), { nil: undefined }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('compact' as const), back: fc.nat(6) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('watch' as const),
      stream: fc.nat(2),
      range: ranges,
      back: fc.integer({ min: -2, max: 12 }),
      noPut: fc.boolean(),
      noDelete: fc.boolean(),
      prevKv: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('slow' as const), stream: fc.nat(2), ready: fc.boolean() }),
  },
  { weight: 2, arbitrary: fc.constant({ op: 'yield' as const }) },
);

const sameKv = (a: KeyValue | undefined, b: KeyValue | undefined) =>
  JSON.stringify(a, (_k, v) => (typeof v === 'bigint' ? String(v) : v)) ===
  JSON.stringify(b, (_k, v) => (typeof v === 'bigint' ? String(v) : v));

describe('WatchHub property', () => {
  it('every watcher receives exactly the events a replay of history gives, in order, once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 5, maxLength: 40 }), async (steps) => {
        const f = await HubFixture.open({ chunkRevisions: 2 });
        try {
          const streams = [f.stream(), f.stream(), f.stream()];
          const watches: { stream: number; id: bigint; spec: WatchSpec; createdAt: number }[] = [];
          const compactions = new Set<number>();
          for (const step of steps) {
            switch (step.op) {
              case 'put':
                f.apply(
                  ...step.keys.map(
                    (k) => (s: typeof f.store) => s.put({ key: b(k), value: b(`v${f.store.revision}`) }),
                  ),
                );
                break;
              case 'del':
                f.apply((s) =>
                  s.deleteRange({
                    key: b(step.key),
                    rangeEnd: step.end === undefined ? undefined : b(step.end),
                  }),
                );
                break;
              case 'compact': {
                const rev = f.store.revision - step.back;
                if (rev > f.store.compactedRevision && rev > 0) {
                  compactions.add(rev);
                  f.store.compact(rev);
                  f.store.flush();
                }
                break;
              }
              case 'watch': {
                const recorder = streams[step.stream];
                const start = step.back === 12 ? 0 : Math.max(1, f.store.revision + 1 - step.back);
                const s = spec(step.range[0], {
                  end: step.range[1],
                  startRevision: start,
                  noPut: step.noPut,
                  noDelete: step.noDelete,
                  prevKv: step.prevKv,
                });
                const before = recorder.replies.length;
                recorder.stream.create(0n, s);
                // The created reply comes first (a compacted start may follow it at once).
                const created = recorder.replies[before];
                if (created.kind !== 'created') throw new Error(`not created: ${created.kind}`);
                watches.push({
                  stream: step.stream,
                  id: created.watchId,
                  spec: s,
                  createdAt: f.store.revision,
                });
                break;
              }
              case 'slow':
                streams[step.stream].setReady(step.ready);
                break;
              case 'yield':
                await new Promise((r) => setImmediate(r));
                break;
            }
          }
          for (const s of streams) s.setReady(true);
          await f.settle();
          await f.store.idle();

          for (const w of watches) {
            const recorder = streams[w.stream];
            const from = w.spec.startRevision === 0 ? w.createdAt + 1 : w.spec.startRevision;
            const start = w.spec.key.toString('latin1');
            const end =
              w.spec.rangeEnd === undefined
                ? undefined
                : w.spec.rangeEnd === null
                  ? null
                  : w.spec.rangeEnd.toString('latin1');
            const covers = (k: string) =>
              end === undefined ? k === start : k >= start && (end === null || k < end);
            // As in etcd, compacting at a revision drops a tombstone written at exactly that
            // revision: a replay from there may or may not see that delete, so neither side counts it.
            const droppable = (ev: MvccEvent) =>
              ev.type === EventType.DELETE && compactions.has(ev.kv.modRevision);
            const expected = f.log.filter(
              ({ ev }) =>
                !droppable(ev) &&
                ev.kv.modRevision >= from &&
                covers(ev.kv.key.toString('latin1')) &&
                !(ev.type === EventType.PUT ? w.spec.noPut : w.spec.noDelete),
            );
            const replies = recorder.of(w.id);
            const got = recorder.events(w.id).filter((ev) => !droppable(ev));
            const compacted = replies.find((r) => r.kind === 'compacted');
            // A compacted watcher got a prefix of its events, then the notice; the others got all.
            const want = compacted ? expected.slice(0, got.length) : expected;
            expect(got.map(describeEvent)).toEqual(want.map(({ ev }) => describeEvent(ev)));
            if (compacted) {
              expect(replies.at(-1)).toBe(compacted);
              expect(compacted.kind === 'compacted' && compacted.compactRevision).toBeGreaterThan(
                got.length ? got[got.length - 1].kv.modRevision : from - 1,
              );
            }
            got.forEach((ev, i) => {
              const ref = want[i];
              if (!w.spec.prevKv) return expect(ev.prevKv).toBeUndefined();
              // prev_kv is read from history: it may be gone if that revision was compacted since.
              if (ev.prevKv || ev.kv.modRevision - 1 >= f.store.compactedRevision) {
                expect(
                  sameKv(
                    ev.prevKv,
                    ref.prev && ev.type === EventType.PUT && ev.kv.version === 1 ? undefined : ref.prev,
                  ),
                ).toBe(true);
              }
            });
            // Never one revision split over two replies.
            const revsPerReply = replies.flatMap((r) =>
              r.kind === 'events' ? [new Set(r.events.map((e) => e.kv.modRevision))] : [],
            );
            const seen = new Set<number>();
            for (const revs of revsPerReply) {
              for (const rev of revs) {
                expect(seen.has(rev)).toBe(false);
                seen.add(rev);
              }
            }
          }
        } finally {
          await f.close();
        }
      }),
      { numRuns: 60 },
    );
  }, 120_000);
});

function describeEvent(ev: MvccEvent): string {
  const kv = ev.kv;
  return `${ev.type} ${kv.key.toString('latin1')} ${kv.modRevision} ${kv.createRevision} ${kv.version} ${kv.value.toString()} ${kv.lease}`;
}
