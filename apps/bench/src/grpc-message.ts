import { status } from '@grpc/grpc-js';

// The gRPC message layer every transport shares: length-prefixed messages and call errors.

/** A failed call, with the gRPC status code and message the server sent. */
export class CallError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(`${code} ${status[code] ?? 'UNKNOWN'}: ${details}`);
  }
}

/** gRPC length-prefixed message: flag byte (0 = not compressed), 4-byte big-endian length, bytes. */
export function frame(message: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  message.copy(out, 5);
  return out;
}

/** The single message of a unary response body. */
export function unframe(chunks: Buffer[]): Buffer {
  const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  if (body.length < 5) throw new CallError(13, `response body too short (${body.length} bytes)`);
  if (body[0] !== 0) throw new CallError(12, 'compressed responses are not supported');
  const len = body.readUInt32BE(1);
  if (body.length < 5 + len) throw new CallError(13, 'truncated response message');
  return body.subarray(5, 5 + len);
}
