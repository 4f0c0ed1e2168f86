import { loadSync } from '@grpc/proto-loader';
import { int64Bits, uint64Bits } from '../../server/src/etcd-types';
import { LOADER_OPTIONS } from './grpc-server';
import { responseSize } from './watch-fragments';
import { WireWatchResponse } from './watch-wire';

// Responses leave the member with numbers and 32-bit halves where the wire has 64-bit
// integers (see etcd-types.ts); clients must read the same decimal values etcd sends.
const definitions = loadSync('etcdserverpb/rpc.proto', LOADER_OPTIONS);
const method = (service: string, name: string) =>
  (
    definitions[`etcdserverpb.${service}`] as Record<
      string,
      { responseSerialize: (v: unknown) => Buffer; responseDeserialize: (b: Buffer) => any }
    >
  )[name];

const IDS = [
  0n,
  1n,
  0xffffffffn,
  0x80000000n,
  1n << 32n,
  0x8000000080000000n,
  0xffffffffffffffffn,
  14841639068965178418n,
];

describe('response encoding', () => {
  it.each(IDS.map((id) => [id]))('a header id of %s reads back as its decimal', (id) => {
    const put = method('KV', 'Put');
    const header = {
      cluster_id: uint64Bits(id),
      member_id: uint64Bits(id ^ 0xffffffffn),
      revision: 7,
      raft_term: 3,
    };
    const decoded = put.responseDeserialize(put.responseSerialize({ header }));
    expect(decoded.header.cluster_id ?? '0').toBe(id.toString());
    expect(decoded.header.member_id ?? '0').toBe((id ^ 0xffffffffn).toString());
    expect(decoded.header.revision).toBe('7');
    expect(decoded.header.raft_term).toBe('3');
  });

  it.each(
    [1n, 0x7fffffffn, 0x80000000n, 1n << 32n, 7587883410000000000n, (1n << 63n) - 1n].map((id) => [id]),
  )('a keep-alive response for lease %s reads back as its decimal id and TTL', (id) => {
    const keepAlive = method('Lease', 'LeaseKeepAlive');
    const header = { cluster_id: uint64Bits(1n), member_id: uint64Bits(2n), revision: 7, raft_term: 3 };
    const bytes = keepAlive.responseSerialize({ header, ID: int64Bits(id), TTL: 60 });
    // The same bytes as the decimal form protobufjs used to parse for every keep-alive.
    expect(bytes).toEqual(keepAlive.responseSerialize({ header, ID: id.toString(), TTL: '60' }));
    const decoded = keepAlive.responseDeserialize(bytes);
    expect([decoded.ID, decoded.TTL]).toEqual([id.toString(), '60']);
  });

  it('range responses carry numeric revisions, versions and count, and a zero or decimal lease', () => {
    const range = method('KV', 'Range');
    const kv = (lease: number | string) => ({
      key: Buffer.from('k'),
      create_revision: 2 ** 40,
      mod_revision: 5,
      version: 3,
      value: Buffer.from('v'),
      lease,
    });
    const decoded = range.responseDeserialize(
      range.responseSerialize({ kvs: [kv(0), kv('9223372036854775807')], more: false, count: 2 }),
    );
    expect(decoded.count).toBe('2');
    expect(
      decoded.kvs.map((k: { create_revision: string; version: string; lease?: string }) => [
        k.create_revision,
        k.version,
        k.lease,
      ]),
    ).toEqual([
      [String(2 ** 40), '3', '0'],
      [String(2 ** 40), '3', '9223372036854775807'],
    ]);
  });

  it('a watch response is sized exactly as it encodes: ids in halves, zero fields, deletes', () => {
    const watch = (
      definitions['etcdserverpb.Watch'] as Record<string, { responseSerialize: (v: unknown) => Buffer }>
    ).Watch;
    const kv = (value: Buffer, lease: string) => ({
      key: Buffer.from('key'),
      create_revision: 3,
      mod_revision: 1000,
      version: 9,
      value,
      lease,
    });
    for (const id of IDS) {
      const responses: WireWatchResponse[] = [
        {
          header: {
            cluster_id: uint64Bits(id),
            member_id: uint64Bits(~id & 0xffffffffffffffffn),
            revision: 1000,
            raft_term: 2,
          },
          watch_id: '0',
          events: [
            { type: 0, kv: kv(Buffer.alloc(300), '0') },
            { type: 1, kv: kv(Buffer.alloc(0), '7587862345123'), prev_kv: kv(Buffer.alloc(200), '0') },
          ],
        },
        {
          header: { cluster_id: uint64Bits(id), member_id: uint64Bits(id), raft_term: 0 },
          watch_id: '-1',
          created: true,
          canceled: false,
          compact_revision: '0',
          cancel_reason: '',
        },
      ];
      for (const res of responses) expect(responseSize(res)).toBe(watch.responseSerialize(res).length);
    }
  });
});
