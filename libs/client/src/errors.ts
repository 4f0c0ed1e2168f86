// Typed errors for everything the SDK reports, mapped from gRPC statuses and etcd's error messages.
import { status as Status, type ServiceError } from '@grpc/grpc-js';

/** Any failure reported by the SDK. */
export class CairnError extends Error {
  override name = 'CairnError';
  constructor(
    message: string,
    /** The gRPC status code, when the failure came from a call. */
    readonly code?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An error answered by the server with one of etcd's messages ("etcdserver: ..."). */
export class EtcdError extends CairnError {
  override name = 'EtcdError';
}
export class LeaseNotFoundError extends EtcdError {
  override name = 'LeaseNotFoundError';
}
export class CompactedError extends EtcdError {
  override name = 'CompactedError';
  /** The compacted revision, when known (watch cancellations carry it). */
  compactRevision?: number;
}
export class FutureRevisionError extends EtcdError {
  override name = 'FutureRevisionError';
}
export class NoLeaderError extends EtcdError {
  override name = 'NoLeaderError';
}
export class RequestTimeoutError extends EtcdError {
  override name = 'RequestTimeoutError';
}
export class TooManyRequestsError extends EtcdError {
  override name = 'TooManyRequestsError';
}
export class LeaderChangedError extends EtcdError {
  override name = 'LeaderChangedError';
}
export class NoSpaceError extends EtcdError {
  override name = 'NoSpaceError';
}
export class InvalidRequestError extends EtcdError {
  override name = 'InvalidRequestError';
}
export class MemberError extends EtcdError {
  override name = 'MemberError';
}
export class AuthError extends EtcdError {
  override name = 'AuthError';
}
export class InvalidAuthTokenError extends AuthError {
  override name = 'InvalidAuthTokenError';
}
export class AuthFailedError extends AuthError {
  override name = 'AuthFailedError';
}
export class PermissionDeniedError extends AuthError {
  override name = 'PermissionDeniedError';
}

/** No endpoint could be reached (the request was never sent). */
export class ConnectionError extends CairnError {
  override name = 'ConnectionError';
}
/** The server does not serve this API (for instance a member without Watch or Lease). */
export class UnimplementedError extends CairnError {
  override name = 'UnimplementedError';
}
/** The call's deadline passed. */
export class DeadlineExceededError extends CairnError {
  override name = 'DeadlineExceededError';
}
/** The caller aborted the call through its AbortSignal. */
export class AbortError extends CairnError {
  override name = 'AbortError';
}
/**
 * A write may or may not have been applied: it left the client, and then the connection broke,
 * the deadline passed or the server timed out. The SDK never retries such a write; `cause` says why.
 */
export class UnknownOutcomeError extends CairnError {
  override name = 'UnknownOutcomeError';
}
/** A watch was cancelled by the server for a reason other than compaction. */
export class WatchCancelledError extends CairnError {
  override name = 'WatchCancelledError';
}

type EtcdErrorClass = new (message: string, code?: number) => EtcdError;

// Exact etcd 3.4 messages (rpctypes) and the class each maps to; prefixes cover messages with a tail.
const byMessage: Array<[string, EtcdErrorClass]> = [
  ['etcdserver: requested lease not found', LeaseNotFoundError],
  ['etcdserver: mvcc: required revision has been compacted', CompactedError],
  ['etcdserver: mvcc: required revision is a future revision', FutureRevisionError],
  ['etcdserver: no leader', NoLeaderError],
  ['etcdserver: request timed out', RequestTimeoutError],
  ['etcdserver: too many requests', TooManyRequestsError],
  ['etcdserver: leader changed', LeaderChangedError],
  ['etcdserver: mvcc: database space exceeded', NoSpaceError],
  ['etcdserver: invalid auth token', InvalidAuthTokenError],
  ['etcdserver: authentication failed, invalid user ID or password', AuthFailedError],
  ['etcdserver: permission denied', PermissionDeniedError],
  ['etcdserver: user name', AuthError],
  ['etcdserver: role name', AuthError],
  ['etcdserver: authentication is not enabled', AuthError],
  ['etcdserver: root user', AuthError],
  ['etcdserver: invalid auth management', AuthError],
  ['etcdserver: permission not granted', AuthError],
  ['etcdserver: user is not granted', AuthError],
  ['etcdserver: role is not granted', AuthError],
  ['etcdserver: member', MemberError],
  ['etcdserver: Peer URLs already exists', MemberError],
  ['etcdserver: key is not provided', InvalidRequestError],
  ['etcdserver: value is provided', InvalidRequestError],
  ['etcdserver: lease is provided', InvalidRequestError],
  ['etcdserver: too many operations in txn request', InvalidRequestError],
  ['etcdserver: duplicate key given in txn request', InvalidRequestError],
  ['etcdserver: request is too large', InvalidRequestError],
  ['etcdserver: too large lease TTL', InvalidRequestError],
];

/** The typed error for a message the server sent (also used for watch cancel reasons). */
export function errorFromMessage(message: string, code?: number): CairnError {
  for (const [prefix, Cls] of byMessage) if (message.startsWith(prefix)) return new Cls(message, code);
  if (message.startsWith('etcdserver: ')) return new EtcdError(message, code);
  return new CairnError(message, code);
}

/** Maps a failed gRPC call to a typed error. */
export function fromServiceError(err: ServiceError): CairnError {
  const details = err.details || err.message;
  if (details.startsWith('etcdserver: ')) {
    const mapped = errorFromMessage(details, err.code);
    (mapped as { cause?: unknown }).cause = err;
    return mapped;
  }
  switch (err.code) {
    case Status.UNAVAILABLE:
      return new ConnectionError(details, err.code, { cause: err });
    case Status.DEADLINE_EXCEEDED:
      return new DeadlineExceededError(details, err.code, { cause: err });
    case Status.CANCELLED:
      return new AbortError(details, err.code, { cause: err });
    case Status.UNIMPLEMENTED:
      return new UnimplementedError(details, err.code, { cause: err });
    case Status.INTERNAL:
      // grpc-js's word for a stream the server reset without a status (a member shutting down
      // does that to its watch streams): the connection broke, the call did not fail.
      if (details.startsWith('Received RST_STREAM'))
        return new ConnectionError(details, err.code, { cause: err });
      return new CairnError(details, err.code, { cause: err });
    default:
      return new CairnError(details, err.code, { cause: err });
  }
}

/** The request provably never reached the server, or the server refused it before proposing it. */
export function neverApplied(err: CairnError): boolean {
  if (err instanceof NoLeaderError || err instanceof TooManyRequestsError) return true;
  const details = err.message;
  // grpc-js fails the pick without sending when no connection to the endpoint is up.
  if (err instanceof ConnectionError)
    return details.includes('No connection established') || details.includes('REFUSED_STREAM');
  // A deadline that passed while grpc-js still waited for a connection: the request never left.
  if (err instanceof DeadlineExceededError) return /waiting for (LB pick|name resolution)/i.test(details);
  return false;
}

/** A transient failure after which an idempotent call (a read) may be sent again. */
export function transient(err: CairnError): boolean {
  return (
    err instanceof ConnectionError ||
    err instanceof NoLeaderError ||
    err instanceof TooManyRequestsError ||
    err instanceof LeaderChangedError ||
    err instanceof RequestTimeoutError
  );
}
