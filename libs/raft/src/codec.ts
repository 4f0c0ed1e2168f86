// Protobuf encoding of Raft messages, entries and state (proto/cairn/raft.proto).
import * as fs from 'fs';
import * as path from 'path';
import * as protobuf from 'protobufjs';
import {
  ConfChange,
  ConfChangeSingle,
  ConfChangeV2,
  ConfState,
  EMPTY_BYTES,
  Entry,
  EntryType,
  HardState,
  Message,
  Snapshot,
  SnapshotMetadata,
} from './types';
import { readMessage, writeMessage } from './message-wire';

const PROTO_FILE = path.join('proto', 'cairn', 'raft.proto');

/**
 * Finds proto/cairn/raft.proto by walking up to the project root (the
 * directory holding package.json), so this works from the TypeScript sources
 * under jest and from the compiled output in dist/.
 */
export function findProtoFile(start: string = __dirname): string {
  let dir = start;
  for (;;) {
    const candidate = path.join(dir, PROTO_FILE);
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find ${PROTO_FILE} above ${start}`);
    dir = parent;
  }
}

const root = protobuf.loadSync(findProtoFile());
const T = {
  Entry: root.lookupType('cairn.raft.Entry'),
  HardState: root.lookupType('cairn.raft.HardState'),
  ConfState: root.lookupType('cairn.raft.ConfState'),
  SnapshotMetadata: root.lookupType('cairn.raft.SnapshotMetadata'),
  Snapshot: root.lookupType('cairn.raft.Snapshot'),
  Message: root.lookupType('cairn.raft.Message'),
  ConfChange: root.lookupType('cairn.raft.ConfChange'),
  ConfChangeV2: root.lookupType('cairn.raft.ConfChangeV2'),
};

/** The loaded protobufjs root, for drivers that embed these types in their own messages. */
export const raftProtoRoot: protobuf.Root = root;

interface LongLike {
  low: number;
  high: number;
  unsigned?: boolean;
}

const U32 = 0xffffffffn;

function toLong(v: bigint): LongLike {
  const u = BigInt.asUintN(64, v);
  return { low: Number(u & U32) | 0, high: Number(u >> 32n) | 0, unsigned: true };
}

function fromLong(v: unknown): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'number') return BigInt(v);
  if (typeof v === 'bigint') return v;
  if (typeof v === 'string') return BigInt(v);
  const l = v as LongLike;
  return (BigInt(l.high >>> 0) << 32n) | BigInt(l.low >>> 0);
}

function bytes(v: unknown): Uint8Array {
  return v instanceof Uint8Array ? v : EMPTY_BYTES;
}

// ---- plain object <-> protobufjs object ----

function entryToPb(e: Entry): object {
  return { term: toLong(e.term), index: toLong(e.index), type: e.type, data: e.data };
}

function entryFromPb(o: any): Entry {
  return {
    term: fromLong(o.term),
    index: fromLong(o.index),
    type: (o.type ?? 0) as EntryType,
    data: bytes(o.data),
  };
}

function confStateToPb(cs: ConfState): object {
  return {
    voters: cs.voters.map(toLong),
    learners: cs.learners.map(toLong),
    votersOutgoing: cs.votersOutgoing.map(toLong),
    learnersNext: cs.learnersNext.map(toLong),
    autoLeave: cs.autoLeave,
  };
}

function confStateFromPb(o: any): ConfState {
  const list = (a: unknown): bigint[] => (Array.isArray(a) ? a.map(fromLong) : []);
  return {
    voters: list(o?.voters),
    learners: list(o?.learners),
    votersOutgoing: list(o?.votersOutgoing),
    learnersNext: list(o?.learnersNext),
    autoLeave: Boolean(o?.autoLeave),
  };
}

function metadataToPb(m: SnapshotMetadata): object {
  return { confState: confStateToPb(m.confState), index: toLong(m.index), term: toLong(m.term) };
}

function metadataFromPb(o: any): SnapshotMetadata {
  return { confState: confStateFromPb(o?.confState), index: fromLong(o?.index), term: fromLong(o?.term) };
}

function snapshotToPb(s: Snapshot): object {
  return { data: s.data, metadata: metadataToPb(s.metadata) };
}

function snapshotFromPb(o: any): Snapshot {
  return { data: bytes(o.data), metadata: metadataFromPb(o.metadata) };
}

function encode(t: protobuf.Type, o: object): Uint8Array {
  return t.encode(o as protobuf.Message).finish();
}

// ---- public API ----

export function encodeEntry(e: Entry): Uint8Array {
  return encode(T.Entry, entryToPb(e));
}

export function decodeEntry(buf: Uint8Array): Entry {
  return entryFromPb(T.Entry.decode(buf));
}

export function encodeHardState(hs: HardState): Uint8Array {
  return encode(T.HardState, { term: toLong(hs.term), vote: toLong(hs.vote), commit: toLong(hs.commit) });
}

export function decodeHardState(buf: Uint8Array): HardState {
  const o: any = T.HardState.decode(buf);
  return { term: fromLong(o.term), vote: fromLong(o.vote), commit: fromLong(o.commit) };
}

export function encodeConfState(cs: ConfState): Uint8Array {
  return encode(T.ConfState, confStateToPb(cs));
}

export function decodeConfState(buf: Uint8Array): ConfState {
  return confStateFromPb(T.ConfState.decode(buf));
}

export function encodeSnapshotMetadata(m: SnapshotMetadata): Uint8Array {
  return encode(T.SnapshotMetadata, metadataToPb(m));
}

export function decodeSnapshotMetadata(buf: Uint8Array): SnapshotMetadata {
  return metadataFromPb(T.SnapshotMetadata.decode(buf));
}

export function encodeSnapshot(s: Snapshot): Uint8Array {
  return encode(T.Snapshot, snapshotToPb(s));
}

export function decodeSnapshot(buf: Uint8Array): Snapshot {
  return snapshotFromPb(T.Snapshot.decode(buf));
}

export function encodeMessage(m: Message): Uint8Array {
  return writeMessage(m, encodeSnapshot);
}

export function decodeMessage(buf: Uint8Array): Message {
  return readMessage(buf, decodeSnapshot);
}

export function encodeConfChange(cc: ConfChange): Uint8Array {
  return encode(T.ConfChange, {
    type: cc.type,
    nodeId: toLong(cc.nodeId),
    context: cc.context,
    id: toLong(cc.id),
  });
}

export function decodeConfChange(buf: Uint8Array): ConfChange {
  const o: any = T.ConfChange.decode(buf);
  return { type: o.type ?? 0, nodeId: fromLong(o.nodeId), context: bytes(o.context), id: fromLong(o.id) };
}

export function encodeConfChangeV2(cc: ConfChangeV2): Uint8Array {
  return encode(T.ConfChangeV2, {
    transition: cc.transition,
    changes: cc.changes.map((c) => ({ type: c.type, nodeId: toLong(c.nodeId) })),
    context: cc.context,
  });
}

export function decodeConfChangeV2(buf: Uint8Array): ConfChangeV2 {
  const o: any = T.ConfChangeV2.decode(buf);
  const changes: ConfChangeSingle[] = Array.isArray(o.changes)
    ? o.changes.map((c: any) => ({ type: c.type ?? 0, nodeId: fromLong(c.nodeId) }))
    : [];
  return { transition: o.transition ?? 0, changes, context: bytes(o.context) };
}

/** Decodes the payload of a conf change entry (either kind); undefined for a normal entry. */
export function decodeConfChangeEntry(e: Entry): ConfChange | ConfChangeV2 | undefined {
  if (e.type === EntryType.ConfChange) return decodeConfChange(e.data);
  if (e.type === EntryType.ConfChangeV2) return decodeConfChangeV2(e.data);
  return undefined;
}
