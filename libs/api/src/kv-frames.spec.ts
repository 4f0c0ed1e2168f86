import { loadSync } from '@grpc/proto-loader';
import fc from 'fast-check';
import { LOADER_OPTIONS } from './grpc-server';
import { KV_RESPONSE_FRAMES } from './kv-frames';

// The generic serializer the server would use (proto-loader over protobufjs), framed as sent.
const definitions = loadSync('etcdserverpb/rpc.proto', LOADER_OPTIONS);
const kv = definitions['etcdserverpb.KV'] as Record<
  string,
  { path: string; responseSerialize(v: unknown): Buffer }
>;

function generic(method: string, value: unknown): Buffer {
  const message = kv[method].responseSerialize(value);
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

function handEncoded(method: string, value: unknown): Buffer | undefined {
  return KV_RESPONSE_FRAMES.get(kv[method].path)!(value);
}

const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
// 64-bit integers as the member hands them over: numbers, decimal strings, 32-bit halves.
const int64 = fc.oneof(
  fc.nat({ max: Number.MAX_SAFE_INTEGER }),
  fc.constantFrom(0, 1, 127, 128, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 35, Number.MAX_SAFE_INTEGER),
  fc.bigInt({ min: -(1n << 63n), max: (1n << 64n) - 1n }).map(String),
  fc.record({
    low: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    high: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  }),
);
const bytes = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));
const header = fc.record(
  { cluster_id: int64, member_id: int64, revision: int64, raft_term: int64 },
  { requiredKeys: [] },
);
const keyValue = fc.record(
  { key: bytes, create_revision: int64, mod_revision: int64, version: int64, value: bytes, lease: int64 },
  { requiredKeys: [] },
);
const put = fc.record({ header: optional(header), prev_kv: optional(keyValue) }, { requiredKeys: [] });
const range = fc.record(
  { header, kvs: fc.array(keyValue, { maxLength: 5 }), more: fc.boolean(), count: int64 },
  { requiredKeys: [] },
);
const deleteRange = fc.record(
  { header, deleted: int64, prev_kvs: fc.array(keyValue, { maxLength: 3 }) },
  { requiredKeys: [] },
);
const { txn } = fc.letrec<{ txn: Record<string, unknown>; op: Record<string, unknown> }>((tie) => ({
  txn: fc.record(
    {
      header,
      succeeded: fc.boolean(),
      responses: fc.array(tie('op'), { maxLength: 3, depthIdentifier: 'txn' }),
    },
    { requiredKeys: [] },
  ),
  op: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ response_range: range }),
    fc.record({ response_put: put }),
    fc.record({ response_delete_range: deleteRange }),
    fc.record({ response_txn: tie('txn') }),
  ),
}));

describe('KV response frames', () => {
  it.each([
    ['Put', put],
    ['Range', range],
    ['DeleteRange', deleteRange],
    ['Txn', txn],
  ] as [string, fc.Arbitrary<unknown>][])(
    '%s: the bytes protobufjs writes, for every value the member hands over',
    (method, arb) => {
      fc.assert(
        fc.property(arb, (value) => {
          const frame = handEncoded(method, value);
          expect(frame).toBeDefined();
          expect(frame!.equals(generic(method, value))).toBe(true);
        }),
        { numRuns: 300 },
      );
    },
  );

  it('a response as a Put handler returns it: header ids as halves, revision and term as numbers', () => {
    const value = {
      header: {
        cluster_id: { low: -5, high: 0x7fffffff },
        member_id: { low: 9, high: 0 },
        revision: 123456,
        raft_term: 4,
      },
      prev_kv: {
        key: Buffer.from('k'),
        create_revision: 1,
        mod_revision: 2,
        version: 1,
        value: Buffer.alloc(0),
        lease: 0,
      },
    };
    expect(handEncoded('Put', value)).toEqual(generic('Put', value));
  });

  it.each([
    ['a base64 string for bytes', { prev_kv: { key: 'aGk=' } }],
    ['a fractional revision', { header: { revision: 1.5 } }],
    ['a negative number', { header: { member_id: -1 } }],
    ['a bigint', { header: { revision: 5n } }],
    ['a decimal string with a sign', { header: { revision: '+5' } }],
    ['a number outside the safe range', { header: { revision: 2 ** 60 } }],
    ['a header that is not an object', { header: 7 }],
  ])('%s: left to the generic serializer', (_name, value) => {
    expect(handEncoded('Put', value)).toBeUndefined();
  });

  it('a repeated field that is not a list is left to the generic serializer (which refuses it)', () => {
    expect(handEncoded('Range', { kvs: { key: Buffer.from('k') } })).toBeUndefined();
    expect(() => generic('Range', { kvs: { key: Buffer.from('k') } })).toThrow();
  });
});
