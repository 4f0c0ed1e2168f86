import * as fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from './rocks';
import { MvccStore } from './mvcc';
import { MvccError } from './errors';
import { ReferenceModel } from './testing/reference-model';
import {
  Compare,
  CompareResult,
  CompareTarget,
  KeyValue,
  RangeRequest,
  RequestOp,
  SortOrder,
  SortTarget,
  TxnRequest,
} from './types';

const b = (s: string) => Buffer.from(s, 'latin1');
const KEYS = ['a', 'ab', 'abc', 'b', 'b\u0000', 'c', 'x\u00ff', 'z'];

const key = fc.constantFrom(...KEYS).map(b);
const rangeEnd = fc.oneof(
  fc.constant(undefined),
  fc.constant(Buffer.alloc(0)),
  fc.constant(Buffer.from([0])),
  fc.constantFrom(...KEYS, 'b\u0001', '{').map(b),
);
const value = fc.string({ maxLength: 6 }).map((s) => Buffer.from(s));

const rangeReq = (maxRev: () => number) =>
  fc
    .record({
      key,
      rangeEnd,
      limit: fc.nat(4),
      revisionBack: fc.nat(6),
      sortOrder: fc.constantFrom(SortOrder.NONE, SortOrder.ASCEND, SortOrder.DESCEND),
      sortTarget: fc.constantFrom(SortTarget.KEY, SortTarget.CREATE, SortTarget.MOD, SortTarget.VERSION),
      keysOnly: fc.boolean(),
      countOnly: fc.boolean(),
      minModRevision: fc.constantFrom(0, 0, 3, 8),
    })
    .map(({ revisionBack, ...r }): RangeRequest => ({
      ...r,
      revision: revisionBack === 0 ? 0 : maxRev() - revisionBack + 1,
    }));

const compareArb: fc.Arbitrary<Compare> = fc
  .record({
    key,
    rangeEnd: fc.oneof(fc.constant(undefined), rangeEnd),
    target: fc.constantFrom(
      CompareTarget.VERSION,
      CompareTarget.CREATE,
      CompareTarget.MOD,
      CompareTarget.VALUE,
    ),
    result: fc.constantFrom(
      CompareResult.EQUAL,
      CompareResult.GREATER,
      CompareResult.LESS,
      CompareResult.NOT_EQUAL,
    ),
    n: fc.nat(6),
    value,
  })
  .map(({ n, value: v, ...c }) => ({ ...c, version: n, createRevision: n, modRevision: n, value: v }));

// Txns touch distinct keys per branch (etcd rejects duplicates before they reach the store).
const txnArb = (maxRev: () => number, depth: number): fc.Arbitrary<TxnRequest> => {
  const op: fc.Arbitrary<RequestOp> = fc.oneof(
    rangeReq(maxRev).map((range) => ({ range: { ...range, revision: 0 } })),
    fc.record({ key, value, prevKv: fc.boolean() }).map((put) => ({ put })),
    fc.record({ key, rangeEnd, prevKv: fc.boolean() }).map((deleteRange) => ({ deleteRange })),
    ...(depth > 0 ? [txnArb(maxRev, depth - 1).map((txn) => ({ txn }))] : []),
  );
  const branch = fc.array(op, { maxLength: 3 }).filter(distinctWrites);
  return fc.record({ compare: fc.array(compareArb, { maxLength: 2 }), success: branch, failure: branch });
};

function writtenKeys(ops: RequestOp[]): string[] {
  return ops.flatMap((op) =>
    'put' in op
      ? [op.put.key.toString('latin1')]
      : 'deleteRange' in op
        ? ['*']
        : 'txn' in op
          ? [...writtenKeys(op.txn.success), ...writtenKeys(op.txn.failure)]
          : [],
  );
}

function distinctWrites(ops: RequestOp[]): boolean {
  const keys = writtenKeys(ops);
  return new Set(keys).size === keys.length && !(keys.includes('*') && keys.length > 1);
}

type Step =
  | { kind: 'put'; key: Buffer; value: Buffer; prevKv: boolean; ignoreValue: boolean }
  | { kind: 'delete'; key: Buffer; rangeEnd?: Buffer; prevKv: boolean }
  | { kind: 'range'; req: RangeRequest }
  | { kind: 'txn'; req: TxnRequest }
  | { kind: 'compact'; back: number }
  | { kind: 'restart' };

function stepArb(maxRev: () => number): fc.Arbitrary<Step> {
  return fc.oneof(
    {
      weight: 5,
      arbitrary: fc
        .record({ key, value, prevKv: fc.boolean(), ignoreValue: fc.boolean() })
        .map((s) => ({ kind: 'put' as const, ...s, ignoreValue: s.ignoreValue && s.value.length === 0 })),
    },
    {
      weight: 2,
      arbitrary: fc
        .record({ key, rangeEnd, prevKv: fc.boolean() })
        .map((s) => ({ kind: 'delete' as const, ...s })),
    },
    { weight: 4, arbitrary: rangeReq(maxRev).map((req) => ({ kind: 'range' as const, req })) },
    { weight: 3, arbitrary: txnArb(maxRev, 1).map((req) => ({ kind: 'txn' as const, req })) },
    { weight: 1, arbitrary: fc.nat(5).map((back) => ({ kind: 'compact' as const, back })) },
    { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
  );
}

/** Runs fn and returns either its value or the error code, so store and model can be compared. */
function outcome<T>(fn: () => T): T | { error: string } {
  try {
    return fn();
  } catch (err) {
    if (err instanceof MvccError) return { error: err.code };
    if (err instanceof Error && !(err instanceof TypeError)) return { error: err.message };
    throw err;
  }
}

const plain = (kv: KeyValue) => ({
  ...kv,
  key: kv.key.toString('latin1'),
  value: kv.value.toString('latin1'),
});
const normalize = (x: unknown): unknown =>
  JSON.parse(
    JSON.stringify(x, (_k, v) => {
      if (typeof v === 'bigint') return v.toString();
      if (v && v.type === 'Buffer' && Array.isArray(v.data)) return Buffer.from(v.data).toString('latin1');
      return v;
    }),
  );

describe('MvccStore against the reference model', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'cairn-mvcc-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('answers every random operation sequence exactly like the model, across restarts and compactions', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat(), { minLength: 1, maxLength: 1 }).chain(() => {
          let rev = 1;
          return fc.array(
            stepArb(() => rev++ % 12),
            { minLength: 5, maxLength: 60 },
          );
        }),
        async (steps) => {
          const path = join(dir, `run-${run++}`);
          let engine = await Engine.open(path);
          let store = await MvccStore.open(engine);
          const model = new ReferenceModel();
          try {
            for (const step of steps) {
              switch (step.kind) {
                case 'put': {
                  const req = {
                    key: step.key,
                    value: step.ignoreValue ? undefined : step.value,
                    prevKv: step.prevKv,
                    ignoreValue: step.ignoreValue,
                  };
                  const got = outcome(() => store.put(req));
                  const want = outcome(() => model.put(req));
                  store.flush();
                  expect(normalize(got)).toEqual(
                    normalize(
                      'error' in want
                        ? want
                        : { revision: want.revision, result: want.prevKv ? { prevKv: want.prevKv } : {} },
                    ),
                  );
                  break;
                }
                case 'delete': {
                  const got = store.deleteRange(step);
                  const want = model.deleteRange(step);
                  store.flush();
                  expect(normalize(got)).toEqual(
                    normalize({
                      revision: want.revision,
                      result: { deleted: want.deleted, prevKvs: want.prevKvs },
                    }),
                  );
                  break;
                }
                case 'range': {
                  const req = {
                    ...step.req,
                    revision: step.req.revision && Math.min(step.req.revision, model.revision + 2),
                  };
                  const got = outcome(() => store.range(req).result);
                  const want = outcome(() => model.range(req));
                  expect(normalize(got)).toEqual(normalize(want));
                  break;
                }
                case 'txn': {
                  const got = outcome(() => store.txn(step.req));
                  const want = outcome(() => model.txn(step.req));
                  store.flush();
                  expect(normalize(got)).toEqual(normalize(want));
                  break;
                }
                case 'compact': {
                  const rev = model.revision - step.back;
                  const got = outcome(() => {
                    const { revision, done } = store.compact(rev);
                    return { revision, done };
                  });
                  const want = outcome(() => model.compact(rev));
                  store.flush();
                  if ('error' in got) expect(got).toEqual(want);
                  else {
                    expect(want).toBeUndefined();
                    await got.done;
                  }
                  break;
                }
                case 'restart': {
                  await store.idle();
                  await engine.close();
                  engine = await Engine.open(path);
                  store = await MvccStore.open(engine);
                  break;
                }
              }
              expect(store.revision).toBe(model.revision);
            }
            // Every surviving revision at or after the compaction point reads back exactly.
            for (let rev = Math.max(1, model.compacted); rev <= model.revision; rev++) {
              const all: RangeRequest = { key: Buffer.from([0]), rangeEnd: Buffer.from([0]), revision: rev };
              expect(store.range(all).result.kvs.map(plain)).toEqual(model.range(all).kvs.map(plain));
            }
          } finally {
            await store.idle();
            await engine.close();
          }
        },
      ),
      {
        numRuns: Number(process.env.MVCC_RUNS ?? 150),
        endOnFailure: true,
        timeout: 10_000,
        seed: process.env.MVCC_SEED ? Number(process.env.MVCC_SEED) : undefined,
      },
    );
  }, 120_000);
});

describe('MvccStore', () => {
  let dir: string;
  let engine: Engine;
  let store: MvccStore;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cairn-mvcc-'));
    engine = await Engine.open(dir);
    store = await MvccStore.open(engine);
  });
  afterEach(async () => {
    await store.idle();
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts versions per generation and resets them after a delete', () => {
    store.put({ key: b('k'), value: b('1') });
    store.put({ key: b('k'), value: b('2') });
    store.deleteRange({ key: b('k') });
    store.put({ key: b('k'), value: b('3') });
    store.flush();
    const [kv] = store.range({ key: b('k') }).result.kvs;
    // The store starts at revision 1, so the first write is revision 2.
    expect(kv).toMatchObject({ createRevision: 5, modRevision: 5, version: 1 });
    expect(store.range({ key: b('k'), revision: 3 }).result.kvs[0]).toMatchObject({
      version: 2,
      createRevision: 2,
    });
    expect(store.range({ key: b('k'), revision: 4 }).result.kvs).toEqual([]);
  });

  it('rejects reads below the compaction point and keeps the compaction revision readable', async () => {
    for (let i = 0; i < 5; i++) store.put({ key: b('k'), value: b(String(i)) });
    store.flush();
    const { done } = store.compact(4);
    store.flush();
    await done;
    expect(() => store.range({ key: b('k'), revision: 3 })).toThrow('required revision has been compacted');
    expect(store.range({ key: b('k'), revision: 4 }).result.kvs[0].value.toString()).toBe('2');
    expect(() => store.compact(3)).toThrow('compacted');
    expect(() => store.compact(4)).toThrow('compacted');
    expect(() => store.compact(7)).toThrow('future revision');
    expect(() => store.range({ key: b('k'), revision: 7 })).toThrow('future revision');
  });

  it('refuses a put with an unknown lease without writing anything', () => {
    expect(() => store.put({ key: b('k'), value: b('v'), lease: 7n })).toThrow('requested lease not found');
    store.flush();
    expect(store.revision).toBe(1);
  });

  it('persists what was flushed and nothing more', async () => {
    store.put({ key: b('a'), value: b('1') });
    store.flush();
    store.put({ key: b('b'), value: b('2') }); // never flushed
    await engine.close();
    engine = await Engine.open(dir);
    store = await MvccStore.open(engine);
    expect(store.revision).toBe(2);
    expect(store.range({ key: b('a'), rangeEnd: Buffer.from([0]) }).result.count).toBe(1);
  });

  it('lets a txn read its own writes and evaluates nested compares before the txn', () => {
    store.put({ key: b('a'), value: b('1') });
    store.flush();
    const { revision, result } = store.txn({
      compare: [{ key: b('a'), target: CompareTarget.VERSION, result: CompareResult.EQUAL, version: 1 }],
      success: [
        { put: { key: b('b'), value: b('2') } },
        { range: { key: b('a'), rangeEnd: b('c') } },
        {
          txn: {
            compare: [
              { key: b('b'), target: CompareTarget.VERSION, result: CompareResult.EQUAL, version: 0 },
            ],
            success: [{ put: { key: b('c'), value: b('3') } }],
            failure: [],
          },
        },
      ],
      failure: [],
    });
    store.flush();
    expect(revision).toBe(3);
    expect(result.succeeded).toBe(true);
    const range = result.responses[1] as { range: { kvs: KeyValue[] } };
    expect(range.range.kvs.map((kv) => kv.key.toString())).toEqual(['a', 'b']);
    const nested = result.responses[2] as { txn: { succeeded: boolean } };
    expect(nested.txn.succeeded).toBe(true);
    expect(store.range({ key: b('c') }).result.kvs[0]).toMatchObject({ modRevision: 3, version: 1 });
  });
});
