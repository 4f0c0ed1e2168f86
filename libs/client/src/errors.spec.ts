import { status } from '@grpc/grpc-js';
import {
  AuthFailedError,
  CompactedError,
  ConnectionError,
  DeadlineExceededError,
  EtcdError,
  InvalidAuthTokenError,
  LeaseNotFoundError,
  NoLeaderError,
  RequestTimeoutError,
  UnimplementedError,
  errorFromMessage,
  fromServiceError,
  neverApplied,
  transient,
} from './errors';

const serviceError = (code: number, details: string) =>
  Object.assign(new Error(`${code} ${details}`), { code, details, metadata: undefined as any });

describe('error mapping', () => {
  it.each([
    ['etcdserver: requested lease not found', LeaseNotFoundError],
    ['etcdserver: mvcc: required revision has been compacted', CompactedError],
    ['etcdserver: no leader', NoLeaderError],
    ['etcdserver: request timed out', RequestTimeoutError],
    ['etcdserver: request timed out, possibly due to previous leader failure', RequestTimeoutError],
    ['etcdserver: invalid auth token', InvalidAuthTokenError],
    ['etcdserver: authentication failed, invalid user ID or password', AuthFailedError],
    ['etcdserver: something new', EtcdError],
  ])('maps %s', (message, Cls) => {
    const err = fromServiceError(serviceError(status.UNAVAILABLE, message));
    expect(err).toBeInstanceOf(Cls);
    expect(err.message).toBe(message);
    expect(err.code).toBe(status.UNAVAILABLE);
  });

  it('maps transport failures by status', () => {
    expect(fromServiceError(serviceError(status.UNAVAILABLE, 'Connection dropped'))).toBeInstanceOf(
      ConnectionError,
    );
    expect(fromServiceError(serviceError(status.DEADLINE_EXCEEDED, 'Deadline exceeded'))).toBeInstanceOf(
      DeadlineExceededError,
    );
    expect(fromServiceError(serviceError(status.UNIMPLEMENTED, 'no Watch'))).toBeInstanceOf(
      UnimplementedError,
    );
    const reset = 'Received RST_STREAM with code 0 (Call ended without gRPC status)';
    expect(fromServiceError(serviceError(status.INTERNAL, reset))).toBeInstanceOf(ConnectionError);
    expect(fromServiceError(serviceError(status.INTERNAL, 'other'))).not.toBeInstanceOf(ConnectionError);
  });

  it('only treats unsent or refused requests as never applied', () => {
    expect(
      neverApplied(new ConnectionError('No connection established. Last error: connect ECONNREFUSED')),
    ).toBe(true);
    expect(neverApplied(errorFromMessage('etcdserver: no leader'))).toBe(true);
    expect(neverApplied(new ConnectionError('Connection dropped'))).toBe(false);
    expect(
      neverApplied(new DeadlineExceededError('Deadline exceeded after 1.001s,Waiting for LB pick')),
    ).toBe(true);
    expect(
      neverApplied(new DeadlineExceededError('Deadline exceeded after 1.001s,LB pick: 0.001s,remote_addr=x')),
    ).toBe(false);
    expect(neverApplied(errorFromMessage('etcdserver: request timed out'))).toBe(false);
    expect(transient(new ConnectionError('Connection dropped'))).toBe(true);
    expect(transient(errorFromMessage('etcdserver: requested lease not found'))).toBe(false);
  });
});
