import fc from 'fast-check';
import * as path from 'path';
import * as protobuf from 'protobufjs';
import {
  decodeConfChange,
  decodeConfChangeEntry,
  decodeConfChangeV2,
  decodeConfState,
  decodeEntry,
  decodeHardState,
  decodeMessage,
  decodeSnapshot,
  encodeConfChange,
  encodeConfChangeV2,
  encodeConfState,
  encodeEntry,
  encodeHardState,
  encodeMessage,
  encodeSnapshot,
  findProtoFile,
  raftProtoRoot,
} from './codec';
import {
  ConfChangeTransition,
  ConfChangeType,
  EMPTY_BYTES,
  EntryType,
  Message,
  MessageType,
  Snapshot,
  makeMessage,
} from './types';

const MAX = (1n << 64n) - 1n;
const u64 = fc.bigInt({ min: 0n, max: MAX });
const bytes = fc.uint8Array({ maxLength: 32 });
const plain = (u: Uint8Array) => Array.from(u);
const entryArb = fc.record({ term: u64, index: u64, type: fc.constantFrom(0, 1, 2), data: bytes });
const msgArb = fc.record({
  type: fc.integer({ min: 0, max: 18 }),
  to: u64,
  from: u64,
  term: u64,
  logTerm: u64,
  index: u64,
  entries: fc.array(entryArb, { maxLength: 4 }),
  commit: u64,
  reject: fc.boolean(),
  rejectHint: u64,
  context: bytes,
}) as unknown as fc.Arbitrary<Message>;

describe('codec', () => {
  it('finds the proto file from the sources', () => {
    expect(findProtoFile()).toBe(path.resolve(__dirname, '../../../proto/cairn/raft.proto'));
  });

  it('round-trips max uint64 ids, terms and indexes in a message', () => {
    const snap: Snapshot = {
      data: Buffer.from('snap'),
      metadata: {
        index: MAX,
        term: MAX - 1n,
        confState: {
          voters: [MAX, 1n],
          learners: [MAX - 2n],
          votersOutgoing: [2n ** 63n],
          learnersNext: [3n],
          autoLeave: true,
        },
      },
    };
    const m = makeMessage({
      type: MessageType.App,
      to: MAX,
      from: MAX - 1n,
      term: MAX,
      logTerm: 2n ** 63n,
      index: 2n ** 53n + 1n,
      entries: [{ term: MAX, index: MAX, type: EntryType.ConfChangeV2, data: Buffer.from([1, 2, 3]) }],
      commit: MAX,
      snapshot: snap,
      reject: true,
      rejectHint: MAX,
      context: Buffer.from('ctx'),
    });
    const d = decodeMessage(encodeMessage(m));
    expect({
      ...d,
      context: plain(d.context),
      entries: d.entries.map((e) => ({ ...e, data: plain(e.data) })),
      snapshot: { ...d.snapshot!, data: plain(d.snapshot!.data) },
    }).toEqual({
      ...m,
      context: plain(m.context),
      entries: m.entries.map((e) => ({ ...e, data: plain(e.data) })),
      snapshot: { ...snap, data: plain(snap.data) },
    });
  });

  it('decodes an empty message to zero values', () => {
    const d = decodeMessage(encodeMessage(makeMessage({ type: MessageType.Hup })));
    expect(d).toEqual({ ...makeMessage({ type: MessageType.Hup }), context: d.context });
    expect(d.context.length).toBe(0);
    expect(d.snapshot).toBeUndefined();
  });

  it('round-trips random messages', () => {
    fc.assert(
      fc.property(msgArb, (m) => {
        const d = decodeMessage(encodeMessage(m));
        expect(d.type).toBe(m.type);
        expect([d.to, d.from, d.term, d.logTerm, d.index, d.commit, d.rejectHint]).toEqual([
          m.to,
          m.from,
          m.term,
          m.logTerm,
          m.index,
          m.commit,
          m.rejectHint,
        ]);
        expect(d.reject).toBe(m.reject);
        expect(plain(d.context)).toEqual(plain(m.context));
        expect(d.entries.map((e) => [e.term, e.index, e.type, plain(e.data)])).toEqual(
          m.entries.map((e) => [e.term, e.index, e.type, plain(e.data)]),
        );
      }),
      { numRuns: 200 },
    );
  });

  it('round-trips entries, hard state, conf state and snapshots', () => {
    const e = { term: MAX, index: 7n, type: EntryType.Normal, data: Buffer.from('x') };
    const de = decodeEntry(encodeEntry(e));
    expect([de.term, de.index, de.type, plain(de.data)]).toEqual([MAX, 7n, EntryType.Normal, plain(e.data)]);
    const hs = { term: MAX, vote: MAX - 5n, commit: 2n ** 60n };
    expect(decodeHardState(encodeHardState(hs))).toEqual(hs);
    const cs = {
      voters: [1n, MAX],
      learners: [],
      votersOutgoing: [5n],
      learnersNext: [5n],
      autoLeave: false,
    };
    expect(decodeConfState(encodeConfState(cs))).toEqual(cs);
    const s = { data: EMPTY_BYTES, metadata: { index: MAX, term: 1n, confState: cs } };
    const ds = decodeSnapshot(encodeSnapshot(s));
    expect(ds.metadata).toEqual(s.metadata);
  });

  it('round-trips conf changes of both kinds', () => {
    const cc = {
      type: ConfChangeType.AddLearnerNode,
      nodeId: MAX,
      context: Buffer.from('peer-url'),
      id: MAX - 9n,
    };
    const dcc = decodeConfChange(encodeConfChange(cc));
    expect({ ...dcc, context: plain(dcc.context) }).toEqual({ ...cc, context: plain(cc.context) });
    const v2 = {
      transition: ConfChangeTransition.JointExplicit,
      changes: [
        { type: ConfChangeType.AddNode, nodeId: MAX },
        { type: ConfChangeType.RemoveNode, nodeId: 1n },
      ],
      context: EMPTY_BYTES,
    };
    const d2 = decodeConfChangeV2(encodeConfChangeV2(v2));
    expect({ ...d2, context: plain(d2.context) }).toEqual({ ...v2, context: [] });
    const fromEntry = decodeConfChangeEntry({
      term: 1n,
      index: 1n,
      type: EntryType.ConfChangeV2,
      data: encodeConfChangeV2(v2),
    });
    expect(fromEntry).toMatchObject({ transition: ConfChangeTransition.JointExplicit });
    expect(
      decodeConfChangeEntry({ term: 1n, index: 1n, type: EntryType.Normal, data: EMPTY_BYTES }),
    ).toBeUndefined();
  });
});

describe('the hand-written message encoding', () => {
  const PbMessage = raftProtoRoot.lookupType('cairn.raft.Message');
  const long = (v: bigint) =>
    new protobuf.util.Long(Number(v & 0xffffffffn) | 0, Number((v >> 32n) & 0xffffffffn) | 0, true);
  const big = (v: unknown) => BigInt(String(v ?? 0));
  const fields = (m: Message) => [
    m.type,
    [m.to, m.from, m.term, m.logTerm, m.index, m.commit, m.rejectHint],
    m.reject,
    plain(m.context),
    m.entries.map((e) => [e.term, e.index, e.type, plain(e.data)]),
  ];

  it('is read by protobufjs as the message it encodes', () => {
    fc.assert(
      fc.property(msgArb, (m) => {
        const o = PbMessage.toObject(PbMessage.decode(encodeMessage(m)), { longs: String, defaults: true });
        const back = makeMessage({
          type: o.type,
          to: big(o.to),
          from: big(o.from),
          term: big(o.term),
          logTerm: big(o.logTerm),
          index: big(o.index),
          commit: big(o.commit),
          reject: o.reject,
          rejectHint: big(o.rejectHint),
          context: o.context,
          entries: o.entries.map((e: Record<string, unknown>) => ({
            term: big(e.term),
            index: big(e.index),
            type: e.type as EntryType,
            data: e.data as Uint8Array,
          })),
        });
        expect(fields(back)).toEqual(fields(m));
      }),
      { numRuns: 200 },
    );
  });

  it('reads what protobufjs writes, zero fields included', () => {
    fc.assert(
      fc.property(msgArb, (m) => {
        const pb = PbMessage.fromObject({
          ...m,
          to: long(m.to),
          from: long(m.from),
          term: long(m.term),
          logTerm: long(m.logTerm),
          index: long(m.index),
          commit: long(m.commit),
          rejectHint: long(m.rejectHint),
          entries: m.entries.map((e) => ({ ...e, term: long(e.term), index: long(e.index) })),
        });
        expect(fields(decodeMessage(PbMessage.encode(pb).finish()))).toEqual(fields(m));
      }),
      { numRuns: 200 },
    );
  });

  it('skips fields it does not know, of every wire type', () => {
    const m = makeMessage({ type: MessageType.App, to: 2n, from: 1n, term: 3n, context: Buffer.from('c') });
    // Fields 20 to 23 (two-byte tags): a varint, a fixed64, bytes and a fixed32.
    const tag = (field: number, wireType: number) => [(((field << 3) | wireType) & 0x7f) | 0x80, field >> 4];
    // prettier-ignore
    const unknown = Buffer.from([
      ...tag(20, 0), 0xff, 0x01,
      ...tag(21, 1), 1, 2, 3, 4, 5, 6, 7, 8,
      ...tag(22, 2), 2, 0xaa, 0xbb,
      ...tag(23, 5), 1, 2, 3, 4,
    ]);
    const d = decodeMessage(Buffer.concat([unknown, encodeMessage(m), unknown]));
    expect(fields(d)).toEqual(fields(m));
  });

  it('refuses a truncated message', () => {
    const m = makeMessage({
      type: MessageType.App,
      to: MAX,
      entries: [{ term: 1n, index: 2n, type: EntryType.Normal, data: Buffer.from('data') }],
      rejectHint: MAX,
    });
    const encoded = encodeMessage(m);
    for (const cut of [1, 2, 5, 10]) {
      expect(() => decodeMessage(encoded.subarray(0, encoded.length - cut))).toThrow(/truncated/);
    }
    // Inside the entry: its declared length runs past the end.
    const entryAt = encoded.indexOf(0x3a);
    expect(() => decodeMessage(encoded.subarray(0, entryAt + 4))).toThrow(/truncated/);
  });
});
