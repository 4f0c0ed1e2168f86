/**
 * The etcd v3 messages as the gRPC layer hands them over: field names as in the .proto
 * (keepCase), 64-bit integers as decimal strings, bytes as Buffer, enums as numbers.
 * Incoming requests may omit fields; outgoing responses may too (proto3 defaults).
 * Responses carry revisions, versions and counts as numbers and the member and cluster ids
 * as 32-bit halves: protobufjs encodes those as they are, where it parses decimal text.
 */
export type Int64 = string | number;

/** A uint64 as its two 32-bit halves (protobufjs's Long-like form). */
export interface Uint64Bits {
  low: number;
  high: number;
  unsigned: true;
}

export function uint64Bits(v: bigint): Uint64Bits {
  return { low: Number(v & 0xffffffffn) | 0, high: Number((v >> 32n) & 0xffffffffn) | 0, unsigned: true };
}

/** The value of a uint64 given as halves (protobufjs's Long, `Uint64Bits`). */
export function uint64FromBits(bits: { low: number; high: number }): bigint {
  return (BigInt(bits.high >>> 0) << 32n) | BigInt(bits.low >>> 0);
}

/** An int64 as its two 32-bit halves (two's complement), for the same reason. */
export interface Int64Bits {
  low: number;
  high: number;
  unsigned: false;
}

export function int64Bits(v: bigint): Int64Bits {
  return { low: Number(v & 0xffffffffn) | 0, high: Number((v >> 32n) & 0xffffffffn) | 0, unsigned: false };
}

export interface ResponseHeader {
  cluster_id: Uint64Bits;
  member_id: Uint64Bits;
  revision: number;
  raft_term: number;
}

export interface KeyValue {
  key: Buffer;
  create_revision: number;
  mod_revision: number;
  version: number;
  value: Buffer;
  lease: Int64;
}

export interface RangeRequest {
  key: Buffer;
  range_end?: Buffer;
  limit?: Int64;
  revision?: Int64;
  sort_order?: number;
  sort_target?: number;
  serializable?: boolean;
  keys_only?: boolean;
  count_only?: boolean;
  min_mod_revision?: Int64;
  max_mod_revision?: Int64;
  min_create_revision?: Int64;
  max_create_revision?: Int64;
}

export interface RangeResponse {
  header?: Partial<ResponseHeader>;
  kvs: KeyValue[];
  more: boolean;
  count: number;
}

export interface PutRequest {
  key: Buffer;
  value?: Buffer;
  lease?: Int64;
  prev_kv?: boolean;
  ignore_value?: boolean;
  ignore_lease?: boolean;
}

export interface PutResponse {
  header?: Partial<ResponseHeader>;
  prev_kv?: KeyValue | null;
}

export interface DeleteRangeRequest {
  key: Buffer;
  range_end?: Buffer;
  prev_kv?: boolean;
}

export interface DeleteRangeResponse {
  header?: Partial<ResponseHeader>;
  deleted: number;
  prev_kvs: KeyValue[];
}

export interface RequestOp {
  request_range?: RangeRequest | null;
  request_put?: PutRequest | null;
  request_delete_range?: DeleteRangeRequest | null;
  request_txn?: TxnRequest | null;
}

export interface ResponseOp {
  response_range?: RangeResponse;
  response_put?: PutResponse;
  response_delete_range?: DeleteRangeResponse;
  response_txn?: TxnResponse;
}

export interface Compare {
  result?: number;
  target?: number;
  key: Buffer;
  version?: Int64 | null;
  create_revision?: Int64 | null;
  mod_revision?: Int64 | null;
  value?: Buffer | null;
  lease?: Int64 | null;
  range_end?: Buffer;
}

export interface TxnRequest {
  compare?: Compare[];
  success?: RequestOp[];
  failure?: RequestOp[];
}

export interface TxnResponse {
  header?: Partial<ResponseHeader>;
  succeeded: boolean;
  responses: ResponseOp[];
}

export interface CompactionRequest {
  revision?: Int64;
  physical?: boolean;
}

export interface CompactionResponse {
  header?: Partial<ResponseHeader>;
}

export interface StatusResponse {
  header: ResponseHeader;
  version: string;
  dbSize: string;
  leader: string;
  raftIndex: string;
  raftTerm: string;
  raftAppliedIndex: string;
  errors: string[];
  dbSizeInUse: string;
  isLearner: boolean;
}

export interface Member {
  ID: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

/** etcd's Cluster service answers with cluster id, member id and term only (no revision). */
export type ClusterHeader = Omit<ResponseHeader, 'revision'>;

export interface MemberListResponse {
  header: ClusterHeader;
  members: Member[];
}

export interface MemberAddRequest {
  peerURLs?: string[];
  isLearner?: boolean;
}
export interface MemberAddResponse {
  header: ClusterHeader;
  member: Member;
  members: Member[];
}
export interface MemberRemoveRequest {
  ID?: Int64;
}
export interface MemberUpdateRequest {
  ID?: Int64;
  peerURLs?: string[];
}
export interface MemberPromoteRequest {
  ID?: Int64;
}
/** MemberRemove, MemberUpdate and MemberPromote answer with the members after the change. */
export interface MembersResponse {
  header: ClusterHeader;
  members: Member[];
}

export interface MoveLeaderRequest {
  targetID?: Int64;
}

export type MoveLeaderResponse = Record<string, never>;

export interface SnapshotResponse {
  remaining_bytes: string;
  blob: Buffer;
}

export enum AlarmAction {
  GET = 0,
  ACTIVATE = 1,
  DEACTIVATE = 2,
}

export enum AlarmType {
  NONE = 0,
  NOSPACE = 1,
  CORRUPT = 2,
}

export interface AlarmRequest {
  action?: AlarmAction;
  /** A uint64 as a decimal string. */
  memberID?: Int64;
  alarm?: AlarmType;
}

export interface AlarmMember {
  memberID: string;
  alarm: AlarmType;
}

export interface AlarmResponse {
  header?: Partial<ResponseHeader>;
  alarms: AlarmMember[];
}

export interface HashKVRequest {
  revision?: Int64;
}

export interface HashKVResponse {
  header: ResponseHeader;
  hash: number;
  compact_revision: string;
}

export interface HashResponse {
  header: ResponseHeader;
  hash: number;
}

export interface DefragmentResponse {
  header: ResponseHeader;
}

export * from './etcd-lease-types';
