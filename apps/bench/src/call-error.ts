import { status } from '@grpc/grpc-js';

/** A failed call, with the gRPC status code and message the server sent. */
export class CallError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(`${code} ${status[code] ?? 'UNKNOWN'}: ${details}`);
  }
}
