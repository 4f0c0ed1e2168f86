// Differential test: the same random KV and txn requests go to a real etcd 3.4 and to Cairn,
// and every answer (responses, revisions, errors) must be identical field by field.
import * as fc from 'fast-check';
import { appendFileSync } from 'node:fs';
import { EtcdApi, connect, settle } from '../support/etcd-api';
import { MemberProcess, startMember } from '../support/members';

jest.setTimeout(300_000);

const KEYS = ['a', 'ab', 'abc', 'b', 'b\u0000', 'c', 'x\u00ff', 'z'];
const key = fc.constantFrom(...KEYS).map((k) => Buffer.from(k, 'latin1'));
const maybeKey = fc.oneof(
  { weight: 12, arbitrary: key },
  { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
);
// Absent and present-but-empty range_end mean different things to etcd: both are exercised.
const rangeEnd = fc.oneof(
  fc.constant(undefined),
  fc.constant(Buffer.alloc(0)),
  fc.constant(Buffer.from([0])),
  fc.constantFrom(...KEYS, 'b\u0001', '{').map((k) => Buffer.from(k, 'latin1')),
);
const value = fc.oneof(fc.constant(''), fc.string({ maxLength: 5 })).map((s) => Buffer.from(s));
/** Revisions are chosen relative to the current one: 0 = current, n = n back, negative = future. */
const relRev = fc.oneof(
  { weight: 4, arbitrary: fc.constant(0) },
  { weight: 3, arbitrary: fc.integer({ min: -2, max: 8 }) },
);

const rangeArb = fc.record({
  key: maybeKey,
  range_end: rangeEnd,
  limit: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 4 })),
  rel: relRev,
  sort_order: fc.integer({ min: 0, max: 2 }),
  sort_target: fc.integer({ min: 0, max: 4 }),
  serializable: fc.boolean(),
  keys_only: fc.boolean(),
  count_only: fc.boolean(),
  min_mod_revision: fc.constantFrom(0, 0, 0, 2, 5),
  max_mod_revision: fc.constantFrom(0, 0, 0, 4, 9),
  min_create_revision: fc.constantFrom(0, 0, 0, 2),
  max_create_revision: fc.constantFrom(0, 0, 0, 6),
});
const putArb = fc.record({
  key: maybeKey,
  value,
  prev_kv: fc.boolean(),
  ignore_value: fc.boolean(),
  ignore_lease: fc.boolean(),
});
const deleteArb = fc.record({ key: maybeKey, range_end: rangeEnd, prev_kv: fc.boolean() });
const compareArb = fc
  .record({
    key: maybeKey,
    range_end: rangeEnd,
    result: fc.integer({ min: 0, max: 3 }),
    target: fc.integer({ min: 0, max: 3 }),
    n: fc.integer({ min: 0, max: 6 }),
    value,
  })
  .map(({ n, value: v, ...c }) => {
    const operand = [{ version: n }, { create_revision: n }, { mod_revision: n }, { value: v }][c.target];
    return { ...c, ...operand };
  });

type Op =
  | { request_range: object }
  | { request_put: object }
  | { request_delete_range: object }
  | { request_txn: object };
const opArb = (depth: number): fc.Arbitrary<Op> =>
  fc.oneof(
    rangeArb.map(({ rel: _rel, ...r }) => ({ request_range: r })),
    putArb.map((p) => ({ request_put: p })),
    deleteArb.map((d) => ({ request_delete_range: d })),
    ...(depth > 0 ? [txnArb(depth - 1).map((t) => ({ request_txn: t }))] : []),
  );
const txnArb = (depth: number) =>
  fc.record({
    compare: fc.array(compareArb, { maxLength: 2 }),
    success: fc.array(opArb(depth), { maxLength: 3 }),
    failure: fc.array(opArb(depth), { maxLength: 3 }),
  });

/** Every op of a txn, nested txns included. */
function opsOf(txn: { success: Op[]; failure: Op[] }): Op[] {
  return [...txn.success, ...txn.failure].flatMap((op) =>
    'request_txn' in op ? [op, ...opsOf(op.request_txn as { success: Op[]; failure: Op[] })] : [op],
  );
}

/**
 * etcd 3.4 panics (the member exits) applying a txn whose put keeps the value or lease of a key
 * that a from-key delete earlier in the same txn removed: its duplicate-key check skips from-key
 * ranges. Such txns are left out here and checked on both alone
 * (test/kv/txn-ignore-after-delete.e2e-spec.ts).
 */
function crashesEtcd(txn: { success: Op[]; failure: Op[] }): boolean {
  const ops = opsOf(txn);
  const fromKeyDelete = ops.some((op) => {
    const del = (op as { request_delete_range?: { range_end?: Buffer } }).request_delete_range;
    return del?.range_end?.length === 1 && del.range_end[0] === 0;
  });
  const keeps = ops.some((op) => {
    const put = (op as { request_put?: { ignore_value: boolean; ignore_lease: boolean } }).request_put;
    return put !== undefined && (put.ignore_value || put.ignore_lease);
  });
  return fromKeyDelete && keeps;
}

type Step =
  | { kind: 'range'; req: any }
  | { kind: 'put' | 'delete' | 'txn'; req: object }
  | { kind: 'compact'; back: number; physical: boolean };
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: putArb.map((req) => ({ kind: 'put' as const, req })) },
  { weight: 4, arbitrary: rangeArb.map((req) => ({ kind: 'range' as const, req })) },
  { weight: 2, arbitrary: deleteArb.map((req) => ({ kind: 'delete' as const, req })) },
  {
    weight: 3,
    arbitrary: txnArb(1)
      .filter((t) => !crashesEtcd(t))
      .map((req) => ({ kind: 'txn' as const, req })),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ back: fc.integer({ min: -1, max: 6 }), physical: fc.boolean() })
      .map((c) => ({ kind: 'compact' as const, ...c })),
  },
);

/** Drops what legitimately differs between two clusters: their ids. */
function normalize(x: any): any {
  if (Array.isArray(x)) return x.map(normalize);
  if (Buffer.isBuffer(x)) return x.toString('latin1');
  if (x && typeof x === 'object') {
    const out: any = {};
    for (const [k, v] of Object.entries(x)) {
      if (k === 'cluster_id' || k === 'member_id') continue;
      out[k] = normalize(v);
    }
    return out;
  }
  return x;
}

describe('Cairn answers KV requests exactly as etcd 3.4 does', () => {
  let etcd: MemberProcess;
  let cairn: MemberProcess;
  let e: EtcdApi;
  let c: EtcdApi;
  let revision = 1;

  beforeAll(async () => {
    [etcd, cairn] = await Promise.all([startMember('etcd'), startMember('cairn')]);
    e = connect(etcd.endpoint);
    c = connect(cairn.endpoint);
  });
  afterAll(async () => {
    e?.close();
    c?.close();
    await Promise.all([etcd?.stop(), cairn?.stop()]);
  });

  async function both(request: object, call: (api: EtcdApi) => Promise<any>): Promise<any> {
    const [want, got] = await Promise.all([settle(call(e)), settle(call(c))]);
    if (process.env.DIFF_TRACE)
      appendFileSync(process.env.DIFF_TRACE, JSON.stringify(normalize({ request, want, got })) + '\n');
    // The request rides along so a failure shows what was asked.
    expect({ request: normalize(request), answer: normalize(got) }).toEqual({
      request: normalize(request),
      answer: normalize(want),
    });
    const rev = want.ok?.header?.revision;
    if (rev) revision = Number(rev);
    return want;
  }

  const toRevision = (rel: number) => (rel === 0 ? 0 : Math.max(revision - rel + 1, -1));

  it('agrees on random sequences of puts, ranges, deletes, txns and compactions', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 25 }), async (steps) => {
        for (const step of steps) {
          switch (step.kind) {
            case 'put':
              await both(step, (api) => api.kv.Put(step.req));
              break;
            case 'delete':
              await both(step, (api) => api.kv.DeleteRange(step.req));
              break;
            case 'txn':
              await both(step, (api) => api.kv.Txn(step.req));
              break;
            case 'range': {
              const { rel, ...req } = step.req;
              await both({ ...req, revision: toRevision(rel) }, (api) =>
                api.kv.Range({ ...req, revision: toRevision(rel) }),
              );
              break;
            }
            case 'compact':
              await both({ compact: revision - step.back }, (api) =>
                api.kv.Compact({ revision: revision - step.back, physical: step.physical }),
              );
              break;
          }
        }
      }),
      {
        numRuns: Number(process.env.DIFF_RUNS ?? 60),
        endOnFailure: true,
        // Otherwise the fixed seed of npm test (test/support/fast-check-seed.ts).
        ...(process.env.DIFF_SEED ? { seed: Number(process.env.DIFF_SEED) } : {}),
      },
    );
  });

  it('gives the same errors for invalid requests', async () => {
    const big = Buffer.alloc(1.5 * 1024 * 1024 + 100, 1);
    const ops = (n: number) =>
      Array.from({ length: n }, (_, i) => ({
        request_put: { key: Buffer.from(`k${i}`), value: Buffer.from('v') },
      }));
    const cases: [string, (api: EtcdApi) => Promise<any>][] = [
      ['empty key put', (api) => api.kv.Put({ key: Buffer.alloc(0), value: Buffer.from('v') })],
      ['empty key range', (api) => api.kv.Range({ key: Buffer.alloc(0) })],
      ['empty key delete', (api) => api.kv.DeleteRange({ key: Buffer.alloc(0) })],
      [
        'ignore_value with a value',
        (api) => api.kv.Put({ key: Buffer.from('a'), value: Buffer.from('v'), ignore_value: true }),
      ],
      [
        'ignore_lease with a lease',
        (api) => api.kv.Put({ key: Buffer.from('a'), lease: 5, ignore_lease: true }),
      ],
      [
        'ignore_value on a missing key',
        (api) => api.kv.Put({ key: Buffer.from('missing'), ignore_value: true }),
      ],
      [
        'unknown lease',
        (api) => api.kv.Put({ key: Buffer.from('a'), value: Buffer.from('v'), lease: '7587868163393213444' }),
      ],
      ['request too large', (api) => api.kv.Put({ key: Buffer.from('big'), value: big })],
      ['too many txn ops', (api) => api.kv.Txn({ success: ops(129) })],
      ['txn at the op limit', (api) => api.kv.Txn({ success: ops(128) })],
      [
        'too many nested ops',
        (api) => api.kv.Txn({ success: [{ request_txn: { success: ops(100) } }, ...ops(28)] }),
      ],
      ['duplicate put in txn', (api) => api.kv.Txn({ success: [...ops(1), ...ops(1)] })],
      [
        'put inside a deleted range',
        (api) =>
          api.kv.Txn({
            success: [
              { request_delete_range: { key: Buffer.from('k'), range_end: Buffer.from('l') } },
              ...ops(1),
            ],
          }),
      ],
      [
        'put in both branches of a nested txn',
        (api) => api.kv.Txn({ success: [{ request_txn: { success: ops(1), failure: ops(1) } }] }),
      ],
      [
        'put in a nested txn and its parent',
        (api) => api.kv.Txn({ success: [{ request_txn: { success: ops(1) } }, ...ops(1)] }),
      ],
      ['empty op in txn', (api) => api.kv.Txn({ success: [{}] })],
      [
        'compare on empty key',
        (api) => api.kv.Txn({ compare: [{ key: Buffer.alloc(0), target: 0, result: 0 }] }),
      ],
      ['compact in the future', (api) => api.kv.Compact({ revision: 1_000_000 })],
      ['range in the future', (api) => api.kv.Range({ key: Buffer.from('a'), revision: 1_000_000 })],
      [
        'txn range in the future',
        (api) => api.kv.Txn({ success: [{ request_range: { key: Buffer.from('a'), revision: 1_000_000 } }] }),
      ],
    ];
    for (const [name, call] of cases) {
      const want = await settle(call(e));
      const got = await settle(call(c));
      expect({ name, result: normalize(got) }).toEqual({ name, result: normalize(want) });
    }
  });

  it('refuses a message above the gRPC size limit with the same status code', async () => {
    // The text differs: it comes from each gRPC library (Go's and grpc-js), not from etcd.
    const huge = (api: EtcdApi) =>
      api.kv.Put({ key: Buffer.from('huge'), value: Buffer.alloc(3 * 1024 * 1024) });
    const [want, got] = [await settle(huge(e)), await settle(huge(c))];
    expect(want.error.code).toBe(8);
    expect(got.error.code).toBe(want.error.code);
    expect(got.error.details).toMatch(/larger than max \(\d+ vs\.? 2097152\)/);
  });
});
