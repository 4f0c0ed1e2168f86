/**
 * gRPC frames for the KV service's responses (Put, Range, DeleteRange, Txn), encoded by hand
 * with the server's protobuf writer: protobufjs's bytes for the same value, straight into the
 * frame (no second copy). A value the writer does not take gives `undefined`, and the caller
 * uses the method's generic serializer.
 */
import { Fields, Pass, encodeMessage } from '../../server/src/proto-writer';

/** A frame's 5-byte prefix (no compression, the length) followed by the message. */
export type FrameEncoder = (value: unknown) => Buffer | undefined;

// Field tags: (field number << 3) | wire type (0 varint, 2 length-delimited).
function header(p: Pass, h: Record<string, unknown>): boolean {
  return (
    p.int64(0x08, h.cluster_id) &&
    p.int64(0x10, h.member_id) &&
    p.int64(0x18, h.revision) &&
    p.int64(0x20, h.raft_term)
  );
}

function keyValue(p: Pass, kv: Record<string, unknown>): boolean {
  return (
    p.bytes(0x0a, kv.key) &&
    p.int64(0x10, kv.create_revision) &&
    p.int64(0x18, kv.mod_revision) &&
    p.int64(0x20, kv.version) &&
    p.bytes(0x2a, kv.value) &&
    p.int64(0x30, kv.lease)
  );
}

function putResponse(p: Pass, r: Record<string, unknown>): boolean {
  return p.message(0x0a, r.header, header) && p.message(0x12, r.prev_kv, keyValue);
}

function rangeResponse(p: Pass, r: Record<string, unknown>): boolean {
  return (
    p.message(0x0a, r.header, header) &&
    p.repeated(0x12, r.kvs, keyValue) &&
    p.bool(0x18, r.more) &&
    p.int64(0x20, r.count)
  );
}

function deleteRangeResponse(p: Pass, r: Record<string, unknown>): boolean {
  return (
    p.message(0x0a, r.header, header) && p.int64(0x10, r.deleted) && p.repeated(0x1a, r.prev_kvs, keyValue)
  );
}

function responseOp(p: Pass, op: Record<string, unknown>): boolean {
  return (
    p.message(0x0a, op.response_range, rangeResponse) &&
    p.message(0x12, op.response_put, putResponse) &&
    p.message(0x1a, op.response_delete_range, deleteRangeResponse) &&
    p.message(0x22, op.response_txn, txnResponse)
  );
}

function txnResponse(p: Pass, r: Record<string, unknown>): boolean {
  return (
    p.message(0x0a, r.header, header) &&
    p.bool(0x10, r.succeeded) &&
    p.repeated(0x1a, r.responses, responseOp)
  );
}

function frameEncoder(fields: Fields): FrameEncoder {
  return (value) => {
    const frame = encodeMessage(fields, value, { prefix: 5 });
    if (!frame) return undefined;
    frame[0] = 0;
    frame.writeUInt32BE(frame.length - 5, 1);
    return frame;
  };
}

/** The KV service's response encoders, by method path. */
export const KV_RESPONSE_FRAMES: ReadonlyMap<string, FrameEncoder> = new Map([
  ['/etcdserverpb.KV/Put', frameEncoder(putResponse)],
  ['/etcdserverpb.KV/Range', frameEncoder(rangeResponse)],
  ['/etcdserverpb.KV/DeleteRange', frameEncoder(deleteRangeResponse)],
  ['/etcdserverpb.KV/Txn', frameEncoder(txnResponse)],
]);
