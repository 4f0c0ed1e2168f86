import * as grpc from '@grpc/grpc-js';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as protobuf from 'protobufjs';

/** proto/cairn/peer.proto, found by walking up to the project root (works from src and dist). */
function peerProtoFile(from = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, 'proto', 'cairn', 'peer.proto');
    if (existsSync(join(dir, 'package.json')) && existsSync(file)) return file;
    if (dirname(dir) === dir) throw new Error(`cannot find proto/cairn/peer.proto above ${from}`);
  }
}

const root = protobuf.loadSync(peerProtoFile());
const MessageBatch = root.lookupType('cairn.peer.MessageBatch');
const CallRequest = root.lookupType('cairn.peer.CallRequest');
const CallResponse = root.lookupType('cairn.peer.CallResponse');
const MembersResponse = root.lookupType('cairn.peer.MembersResponse');
const SnapshotChunk = root.lookupType('cairn.peer.SnapshotChunk');

/** One message of a Peer.Snapshot stream (see peer.proto). */
export interface SnapshotChunkMessage {
  message?: Uint8Array;
  keys?: Uint8Array[];
  values?: Uint8Array[];
  last?: boolean;
  records?: number;
  crc32c?: number;
}

export interface MembersAnswer {
  clusterId: bigint;
  members: Uint8Array;
}

/** Metadata keys every peer call carries: the sender's cluster and member ids (decimal). */
export const CLUSTER_ID_HEADER = 'cairn-cluster-id';
export const MEMBER_ID_HEADER = 'cairn-member-id';

export interface CallRequestMessage {
  method: string;
  payload: Uint8Array;
}

const EMPTY = Buffer.alloc(0);

/** The Peer service with its (de)serializers: a batch travels as its encoded raft messages. */
export const PEER_SERVICE = {
  Stream: {
    path: '/cairn.peer.Peer/Stream',
    requestStream: true,
    responseStream: false,
    requestSerialize: (messages: Uint8Array[]) => Buffer.from(MessageBatch.encode({ messages }).finish()),
    requestDeserialize: (buf: Buffer) =>
      (MessageBatch.decode(buf) as unknown as { messages: Uint8Array[] }).messages,
    responseSerialize: () => EMPTY,
    responseDeserialize: () => ({}),
  },
  Call: {
    path: '/cairn.peer.Peer/Call',
    requestStream: false,
    responseStream: false,
    requestSerialize: (req: CallRequestMessage) => Buffer.from(CallRequest.encode(req).finish()),
    requestDeserialize: (buf: Buffer) => CallRequest.decode(buf) as unknown as CallRequestMessage,
    responseSerialize: (payload: Uint8Array) => Buffer.from(CallResponse.encode({ payload }).finish()),
    responseDeserialize: (buf: Buffer) =>
      (CallResponse.decode(buf) as unknown as { payload: Uint8Array }).payload,
  },
  Members: {
    path: '/cairn.peer.Peer/Members',
    requestStream: false,
    responseStream: false,
    requestSerialize: () => EMPTY,
    requestDeserialize: () => ({}),
    responseSerialize: (a: MembersAnswer) =>
      Buffer.from(MembersResponse.encode({ clusterId: a.clusterId.toString(), members: a.members }).finish()),
    responseDeserialize: (buf: Buffer): MembersAnswer => {
      const m = MembersResponse.toObject(MembersResponse.decode(buf), { longs: String }) as {
        clusterId?: string;
        members?: Uint8Array;
      };
      return { clusterId: BigInt(m.clusterId ?? '0'), members: m.members ?? new Uint8Array(0) };
    },
  },
  Snapshot: {
    path: '/cairn.peer.Peer/Snapshot',
    requestStream: true,
    responseStream: false,
    requestSerialize: (c: SnapshotChunkMessage) => Buffer.from(SnapshotChunk.encode(c).finish()),
    requestDeserialize: (buf: Buffer): SnapshotChunkMessage => {
      const c = SnapshotChunk.toObject(SnapshotChunk.decode(buf), { longs: Number }) as SnapshotChunkMessage;
      return { ...c, keys: c.keys ?? [], values: c.values ?? [] };
    },
    responseSerialize: () => EMPTY,
    responseDeserialize: () => ({}),
  },
} satisfies grpc.ServiceDefinition;

export const PeerClient = grpc.makeGenericClientConstructor(PEER_SERVICE, 'Peer');

/** host:port for gRPC from a peer URL (http://host:port). */
export function peerTarget(url: string): string {
  const u = new URL(url);
  return u.host;
}
