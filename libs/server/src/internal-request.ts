import * as protobuf from 'protobufjs';
import { CAIRN_PROTO_DIR, ETCD_PROTO_DIR } from './proto-path';
import * as pb from './etcd-types';
import type * as auth from './auth-types';
import { Pass, encodeMessage } from './proto-writer';

/** A request as it travels through the log: one etcd write, plus the proposer's id for it. */
export interface InternalRequest {
  /** A uint64: decoded as a decimal string; a proposer may pass its 32-bit halves. */
  id: string | { low: number; high: number; unsigned: boolean };
  put?: pb.PutRequest;
  delete_range?: pb.DeleteRangeRequest;
  txn?: pb.TxnRequest;
  compaction?: pb.CompactionRequest;
  alarm?: pb.AlarmRequest;
  auth_info?: auth.RequestAuthInfo;
  auth_enable?: Record<string, never>;
  auth_disable?: Record<string, never>;
  authenticate?: auth.InternalAuthenticateRequest;
  auth_user_add?: auth.InternalUserAddRequest;
  auth_user_delete?: auth.AuthUserDeleteRequest;
  auth_user_change_password?: auth.InternalUserChangePasswordRequest;
  auth_user_grant_role?: auth.AuthUserGrantRoleRequest;
  auth_user_get?: auth.AuthUserGetRequest;
  auth_user_revoke_role?: auth.AuthUserRevokeRoleRequest;
  auth_role_add?: auth.AuthRoleAddRequest;
  auth_role_grant_permission?: auth.AuthRoleGrantPermissionRequest;
  auth_role_get?: auth.AuthRoleGetRequest;
  auth_role_revoke_permission?: auth.AuthRoleRevokePermissionRequest;
  auth_role_delete?: auth.AuthRoleDeleteRequest;
  auth_user_list?: Record<string, never>;
  auth_role_list?: Record<string, never>;
  lease_grant?: pb.LeaseGrantRequest;
  lease_revoke?: pb.LeaseRevokeRequest;
  member_attributes?: MemberAttributesRequest;
}

export interface MemberAttributesRequest {
  /** A uint64 as a decimal string. */
  member_id: string;
  name?: string;
  client_urls?: string[];
}

function loadType(): protobuf.Type {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) =>
    target.startsWith('etcdserverpb/') || target.startsWith('mvccpb/') || target.startsWith('authpb/')
      ? `${ETCD_PROTO_DIR}/${target}`
      : `${CAIRN_PROTO_DIR}/${target}`;
  root.loadSync('internal.proto', { keepCase: true });
  return root.lookupType('cairn.internal.InternalRequest');
}

const InternalRequestType = loadType();

// Same conversion as the gRPC layer, so decoded requests look like the ones the API received.
const TO_OBJECT: protobuf.IConversionOptions = {
  longs: String,
  defaults: false,
  oneofs: true,
  bytes: Buffer as any,
};

export function encodeInternalRequest(req: InternalRequest): Uint8Array {
  // A put (what write loads propose most) is written by hand, as protobufjs would write it.
  const bytes = isPut(req) ? encodeMessage(putInternalRequest, req, { omitDefaults: true }) : undefined;
  return bytes ?? encodeWithProtobufjs(req);
}

/** The generic encoding, which every request takes (and the hand-written one must equal). */
export function encodeWithProtobufjs(req: InternalRequest): Uint8Array {
  return InternalRequestType.encode(InternalRequestType.fromObject(req)).finish();
}

/** A put and nothing else (besides the id and who sent it). */
function isPut(req: InternalRequest): boolean {
  for (const k in req) {
    if (k !== 'id' && k !== 'put' && k !== 'auth_info' && req[k as keyof InternalRequest] !== undefined)
      return false;
  }
  return req.put != null;
}

// Field tags: (field number << 3) | wire type (0 varint, 2 length-delimited).
function putInternalRequest(p: Pass, r: Record<string, unknown>): boolean {
  return p.int64(0x08, r.id) && p.message(0x12, r.put, putRequest) && p.message(0x6a, r.auth_info, authInfo);
}

function putRequest(p: Pass, r: Record<string, unknown>): boolean {
  return (
    p.bytes(0x0a, r.key) &&
    p.bytes(0x12, r.value) &&
    p.int64(0x18, r.lease) &&
    p.bool(0x20, r.prev_kv) &&
    p.bool(0x28, r.ignore_value) &&
    p.bool(0x30, r.ignore_lease)
  );
}

function authInfo(p: Pass, a: Record<string, unknown>): boolean {
  return p.string(0x0a, a.username) && p.int64(0x10, a.auth_revision);
}

export function decodeInternalRequest(data: Uint8Array): InternalRequest {
  const message = InternalRequestType.decode(data) as protobuf.Message & {
    id?: pb.Uint64Bits | number | null;
  };
  // Every entry has an id; long.js's decimal conversion of it (four 64-bit divisions, ~0.8 µs)
  // was most of a put's decoding, so toObject skips it and it is converted here (~0.1 µs).
  // An id of zero is not on the wire: decode leaves protobufjs's default on the prototype,
  // which toObject skips, and so does this.
  const id = Object.prototype.hasOwnProperty.call(message, 'id') ? message.id : undefined;
  if (id != null) message.id = null;
  const request = InternalRequestType.toObject(message, TO_OBJECT) as InternalRequest;
  if (id != null) request.id = typeof id === 'number' ? String(id) : pb.uint64FromBits(id).toString();
  return request;
}
