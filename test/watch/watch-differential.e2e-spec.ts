// Differential tests of the Watch service: the same writes and watches go to a real etcd 3.4
// and to Cairn, and what every watch receives must be identical field by field.
import * as fc from 'fast-check';
import { EtcdApi, connect } from '../support/etcd-api';
import { MemberProcess, startMember } from '../support/members';
import { WatchClient, normalizeResponse, openWatch, perWatch } from '../support/watch-client';

jest.setTimeout(300_000);

const b = (s: string) => Buffer.from(s, 'latin1');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Pair {
  etcd: MemberProcess;
  cairn: MemberProcess;
  apis: EtcdApi[];
}

async function startPair(extraArgs: string[] = []): Promise<Pair> {
  const [etcd, cairn] = await Promise.all([
    startMember('etcd', { extraArgs }),
    startMember('cairn', { extraArgs }),
  ]);
  return { etcd, cairn, apis: [connect(etcd.endpoint), connect(cairn.endpoint)] };
}

async function stopPair(p: Pair | undefined): Promise<void> {
  if (!p) return;
  p.apis.forEach((a) => a.close());
  await Promise.all([p.etcd.stop(), p.cairn.stop()]);
}

/** Runs the same KV call on both members (in turn, so revisions match) and checks the revisions agree. */
async function both(p: Pair, call: (api: EtcdApi) => Promise<any>): Promise<void> {
  const [a, c] = [await call(p.apis[0]), await call(p.apis[1])];
  expect(c.header.revision).toEqual(a.header.revision);
}

describe('Watch: etcd 3.4 parity, request by request', () => {
  let p: Pair;
  beforeAll(async () => (p = await startPair(['--experimental-watch-progress-notify-interval', '1s'])));
  afterAll(() => stopPair(p));

  it('answers creates, duplicates, bad ranges, cancels, progress and compacted starts as etcd does', async () => {
    for (let i = 0; i < 5; i++) await both(p, (api) => api.kv.Put({ key: b(`e/k${i}`), value: b(`v${i}`) }));
    const streams = [openWatch(p.etcd.endpoint), openWatch(p.cairn.endpoint)];
    const step = async (req: object) => {
      streams.forEach((s) => s.send(req));
      await Promise.all(streams.map((s) => s.quiet(300)));
    };
    const base = Number((await p.apis[0].kv.Range({ key: b('e/k0') })).header.revision) - 5;
    await step({
      create_request: { key: b('e/k'), range_end: b('e/l'), start_revision: base + 2, prev_kv: true },
    });
    await step({ create_request: { key: b('e/k1'), watch_id: 7 } });
    await step({ create_request: { key: b('e/k1'), watch_id: 7 } });
    await step({ create_request: { key: b('e/k1') } });
    await step({ create_request: { key: b('e/z'), range_end: b('e/a') } });
    await step({ create_request: { key: b('e/k'), start_revision: base + 100 } });
    await step({ create_request: { key: b('e/k'), start_revision: -5 } });
    await step({ cancel_request: { watch_id: 99 } });
    await step({ cancel_request: { watch_id: 7 } });
    await step({ progress_request: {} });
    await step({
      create_request: { key: b('e/k'), range_end: b('e/l'), start_revision: base + 3, filters: [0] },
    });
    await both(p, (api) => api.kv.Compact({ revision: base + 4 }));
    await step({ create_request: { key: b('e/k'), range_end: b('e/l'), start_revision: base + 3 } });
    await step({
      create_request: { key: b('e/k'), range_end: b('e/l'), start_revision: base + 4, filters: [1] },
    });
    await both(p, (api) => api.kv.Put({ key: b('e/k2'), value: b('again') }));
    await both(p, (api) => api.kv.DeleteRange({ key: b('e/k'), range_end: b('e/l'), prev_kv: true }));
    await Promise.all(streams.map((s) => s.quiet(500)));
    const [etcd, cairn] = streams.map((s) => perWatch(s.responses.map(normalizeResponse)));
    expect(cairn).toEqual(etcd);
    // Control replies, request by request, header revision included.
    const control = (s: WatchClient) =>
      s.responses.filter((r) => r.events.length === 0 && r.watch_id !== '4').map(normalizeResponse);
    expect(control(streams[1])).toEqual(control(streams[0]));
    streams.forEach((s) => s.close());
  });

  it('sends periodic progress notifications to idle watchers that asked for them, as etcd does', async () => {
    const streams = [openWatch(p.etcd.endpoint), openWatch(p.cairn.endpoint)];
    for (const s of streams) {
      s.send({ create_request: { key: b('p/a'), progress_notify: true } });
      s.send({ create_request: { key: b('p/b') } });
    }
    // A notification within a few intervals, none to the watcher that did not ask.
    await Promise.all(
      streams.map((s) => s.waitFor((rs) => rs.some((r) => !r.created && r.watch_id === '0'))),
    );
    for (const s of streams) {
      const note = s.responses.find((r) => !r.created && r.watch_id === '0');
      expect(note.events).toEqual([]);
      expect(note.canceled).toBe(false);
      expect(s.responses.some((r) => !r.created && r.watch_id === '1')).toBe(false);
    }
    const rev = (await p.apis[0].kv.Range({ key: b('p/a') })).header.revision;
    expect(streams[1].responses.find((r) => !r.created && r.watch_id === '0').header.revision).toBe(rev);
    streams.forEach((s) => s.close());
  });
});

// ---- random write sequences and watches ----

const KEYS = ['a', 'ab', 'b', 'c', 'c\u0000'];
const keyArb = fc.constantFrom(...KEYS);
const valueArb = fc.string({ maxLength: 4 });
type Write =
  | { put: { key: string; value: string } }
  | { del: { key: string; end?: string } }
  | { txn: { key: string; value: string }[] };
const writeArb: fc.Arbitrary<Write> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ key: keyArb, value: valueArb }).map((put) => ({ put })) },
  {
    weight: 2,
    arbitrary: fc
      .record({ key: keyArb, end: fc.option(fc.constantFrom('b', 'c', '\u0000'), { nil: undefined }) })
      .map((del) => ({ del })),
  },
  {
    weight: 1,
    arbitrary: fc
      .uniqueArray(fc.record({ key: keyArb, value: valueArb }), {
        minLength: 2,
        maxLength: 3,
        selector: (w) => w.key,
      })
      .map((txn) => ({ txn })),
  },
);
interface WatchStep {
  range: [string, string | undefined];
  start: number;
  prev_kv: boolean;
  filters: number[];
}
const watchArb: fc.Arbitrary<WatchStep> = fc.record({
  range: fc.constantFrom<[string, string | undefined]>(
    ['a', undefined],
    ['a', 'b'],
    ['b', '\u0000'],
    ['', '\u0000'],
    ['c', undefined],
  ),
  /** Start revision relative to the run's first: 0 = "now" (start_revision 0). */
  start: fc.integer({ min: 0, max: 10 }),
  prev_kv: fc.boolean(),
  filters: fc.subarray([0, 1], { maxLength: 1 }),
});
type Step = { write: Write } | { watch: WatchStep } | { compact: number };
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: writeArb.map((write) => ({ write })) },
  { weight: 3, arbitrary: watchArb.map((watch) => ({ watch })) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 8 }).map((compact) => ({ compact })) },
);

describe('Watch: random writes and watches against etcd 3.4', () => {
  let p: Pair;
  beforeAll(async () => (p = await startPair()));
  afterAll(() => stopPair(p));

  it('every watch receives the same events (prev_kv, filters, history, compaction) from both', async () => {
    let run = 0;
    // The members' compacted revision: it outlives each run, and compacting at or below it again
    // is refused (by both).
    let compacted = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 4, maxLength: 25 }), async (steps) => {
        const prefix = `r${run++}/`;
        const k = (s: string) => b(prefix + s);
        const end = (s: string) => (s === '\u0000' ? b(prefix.slice(0, -1) + '0') : k(s));
        const base = Number((await p.apis[1].kv.Range({ key: b('x') })).header.revision);
        // Each member gets one stream; watches share it, as clients multiplex them.
        const streams = [openWatch(p.etcd.endpoint), openWatch(p.cairn.endpoint)];
        try {
          for (const step of steps) {
            if ('write' in step) {
              const w = step.write;
              await both(p, (api) =>
                'put' in w
                  ? api.kv.Put({ key: k(w.put.key), value: b(w.put.value) })
                  : 'del' in w
                    ? api.kv.DeleteRange({
                        key: k(w.del.key),
                        range_end: w.del.end === undefined ? undefined : end(w.del.end),
                      })
                    : api.kv.Txn({
                        success: w.txn.map((o) => ({ request_put: { key: k(o.key), value: b(o.value) } })),
                      }),
              );
            } else if ('watch' in step) {
              const w = step.watch;
              const req = {
                create_request: {
                  key: k(w.range[0]),
                  range_end: w.range[1] === undefined ? undefined : end(w.range[1]),
                  start_revision: w.start === 0 ? 0 : base + w.start,
                  prev_kv: w.prev_kv,
                  filters: w.filters,
                },
              };
              const n = streams[0].responses.filter((r) => r.created).length + 1;
              streams.forEach((s) => s.send(req));
              await Promise.all(
                streams.map((s) => s.waitFor((rs) => rs.filter((r) => r.created).length === n)),
              );
              // Let etcd's catch-up (every 100 ms) run before anything else happens.
              if (w.start !== 0) await sleep(250);
            } else {
              const current = Number((await p.apis[1].kv.Range({ key: b('x') })).header.revision);
              const rev = Math.max(base, current - step.compact);
              if (rev > compacted) {
                compacted = rev;
                await both(p, (api) => api.kv.Compact({ revision: rev, physical: true }));
              }
            }
          }
          await Promise.all(streams.map((s) => s.quiet(500)));
          const [etcd, cairn] = streams.map((s) => perWatch(s.responses.map(normalizeResponse)));
          expect(cairn).toEqual(etcd);
          // All events of one revision in one response, on Cairn as on etcd.
          const seen = new Set<string>();
          for (const r of streams[1].responses) {
            for (const rev of new Set(r.events.map((e: any) => `${r.watch_id}@${e.kv.mod_revision}`))) {
              expect(seen.has(rev as string)).toBe(false);
              seen.add(rev as string);
            }
          }
        } finally {
          streams.forEach((s) => s.close());
        }
      }),
      { numRuns: 12 },
    );
  });
});

describe('Watch: fragments within --max-request-bytes, as etcd splits them', () => {
  let p: Pair;
  beforeAll(async () => (p = await startPair(['--max-request-bytes', '65536'])));
  afterAll(() => stopPair(p));

  it('splits a large history replay into the same fragments', async () => {
    // etcd splits at --max-request-bytes plus its 512 KiB gRPC allowance.
    for (let i = 0; i < 20; i++)
      await both(p, (api) =>
        api.kv.Put({ key: b(`f/${i}`), value: Buffer.alloc(40_000 + i * 1013, 97 + i) }),
      );
    const streams = [openWatch(p.etcd.endpoint), openWatch(p.cairn.endpoint)];
    for (const s of streams) {
      s.send({ create_request: { key: b('f/'), range_end: b('f0'), start_revision: 1, fragment: true } });
      s.send({ create_request: { key: b('f/'), range_end: b('f0'), start_revision: 1, watch_id: 5 } });
    }
    await Promise.all(
      streams.map((s) => s.waitFor((rs) => rs.filter((r) => r.events.length > 0).length >= 2)),
    );
    await Promise.all(streams.map((s) => s.quiet(500)));
    const shape = (s: WatchClient) =>
      s.responses
        .filter((r) => r.events.length > 0)
        .map((r) => ({
          id: r.watch_id,
          fragment: r.fragment,
          events: r.events.map((e: any) => e.kv.key.toString()),
        }))
        .sort((x, y) => x.id.localeCompare(y.id));
    expect(shape(streams[1])).toEqual(shape(streams[0]));
    expect(shape(streams[1]).filter((r) => r.fragment).length).toBeGreaterThan(0);
    streams.forEach((s) => s.close());
  });
});
