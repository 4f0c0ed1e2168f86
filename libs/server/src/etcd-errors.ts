import { MvccError } from '../../storage/src';

/** gRPC status codes etcd answers with (the numeric values of the gRPC spec). */
export enum GrpcCode {
  OK = 0,
  CANCELLED = 1,
  UNKNOWN = 2,
  INVALID_ARGUMENT = 3,
  DEADLINE_EXCEEDED = 4,
  NOT_FOUND = 5,
  ALREADY_EXISTS = 6,
  PERMISSION_DENIED = 7,
  RESOURCE_EXHAUSTED = 8,
  FAILED_PRECONDITION = 9,
  ABORTED = 10,
  OUT_OF_RANGE = 11,
  UNIMPLEMENTED = 12,
  INTERNAL = 13,
  UNAVAILABLE = 14,
  DATA_LOSS = 15,
  UNAUTHENTICATED = 16,
}

/**
 * An error a client sees, with etcd's exact gRPC status code and message: clients match on
 * the message text (etcd's rpctypes), so these strings are part of the wire contract.
 */
export class EtcdError extends Error {
  constructor(
    readonly code: GrpcCode,
    message: string,
  ) {
    super(message);
    this.name = 'EtcdError';
  }
}

const e = (code: GrpcCode, message: string) => new EtcdError(code, message);

export const Errors = {
  emptyKey: () => e(GrpcCode.INVALID_ARGUMENT, 'etcdserver: key is not provided'),
  keyNotFound: () => e(GrpcCode.INVALID_ARGUMENT, 'etcdserver: key not found'),
  valueProvided: () => e(GrpcCode.INVALID_ARGUMENT, 'etcdserver: value is provided'),
  leaseProvided: () => e(GrpcCode.INVALID_ARGUMENT, 'etcdserver: lease is provided'),
  tooManyOps: () => e(GrpcCode.INVALID_ARGUMENT, 'etcdserver: too many operations in txn request'),
  duplicateKey: () => e(GrpcCode.INVALID_ARGUMENT, 'etcdserver: duplicate key given in txn request'),
  compacted: () => e(GrpcCode.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted'),
  futureRevision: () => e(GrpcCode.OUT_OF_RANGE, 'etcdserver: mvcc: required revision is a future revision'),
  noSpace: () => e(GrpcCode.RESOURCE_EXHAUSTED, 'etcdserver: mvcc: database space exceeded'),
  /** Writes while the CORRUPT alarm is raised (etcd's applierV3Corrupt). */
  corrupt: () => e(GrpcCode.DATA_LOSS, 'etcdserver: corrupt cluster'),
  leaseNotFound: () => e(GrpcCode.NOT_FOUND, 'etcdserver: requested lease not found'),
  leaseExists: () => e(GrpcCode.FAILED_PRECONDITION, 'etcdserver: lease already exists'),
  leaseTtlTooLarge: () => e(GrpcCode.OUT_OF_RANGE, 'etcdserver: too large lease TTL'),
  requestTooLarge: () => e(GrpcCode.INVALID_ARGUMENT, 'etcdserver: request is too large'),
  noLeader: () => e(GrpcCode.UNAVAILABLE, 'etcdserver: no leader'),
  leaderChanged: () => e(GrpcCode.UNAVAILABLE, 'etcdserver: leader changed'),
  timeout: () => e(GrpcCode.UNAVAILABLE, 'etcdserver: request timed out'),
  timeoutDueToLeaderFail: () =>
    e(GrpcCode.UNAVAILABLE, 'etcdserver: request timed out, possibly due to previous leader failure'),
  stopped: () => e(GrpcCode.UNAVAILABLE, 'etcdserver: server stopped'),
  /** etcd 3.4: a write that waited its whole timeout for a leader fails with Go's context error. */
  noLeaderDeadline: () => e(GrpcCode.UNKNOWN, 'context deadline exceeded'),
  /** etcd 3.4: Raft refused the proposal (a leadership transfer, a removed leader); UNKNOWN too. */
  proposalDropped: () => e(GrpcCode.UNKNOWN, 'raft proposal dropped'),
  notLeader: () => e(GrpcCode.FAILED_PRECONDITION, 'etcdserver: not leader'),
  badLeaderTransferee: () => e(GrpcCode.FAILED_PRECONDITION, 'etcdserver: bad leader transferee'),
  leaderTransferTimeout: () =>
    e(GrpcCode.UNAVAILABLE, 'etcdserver: request timed out, leader transfer took too long'),
  memberExist: () => e(GrpcCode.FAILED_PRECONDITION, 'etcdserver: member ID already exist'),
  peerUrlExist: () => e(GrpcCode.FAILED_PRECONDITION, 'etcdserver: Peer URLs already exists'),
  /** etcd 3.4 has no gRPC status for this one: it reaches clients as UNKNOWN. */
  memberNotEnoughStarted: () =>
    e(GrpcCode.UNKNOWN, 'etcdserver: re-configuration failed due to not enough started members'),
  /** etcd's ErrGRPCUnhealthy: a membership change refused by the strict reconfiguration check. */
  unhealthy: () => e(GrpcCode.UNAVAILABLE, 'etcdserver: unhealthy cluster'),
  memberBadUrls: () => e(GrpcCode.INVALID_ARGUMENT, 'etcdserver: given member URLs are invalid'),
  memberNotFound: () => e(GrpcCode.NOT_FOUND, 'etcdserver: member not found'),
  memberNotLearner: () => e(GrpcCode.FAILED_PRECONDITION, 'etcdserver: can only promote a learner member'),
  learnerNotReady: () =>
    e(
      GrpcCode.FAILED_PRECONDITION,
      'etcdserver: can only promote a learner member which is in sync with leader',
    ),
  notSupportedForLearner: () => e(GrpcCode.UNAVAILABLE, 'etcdserver: rpc not supported for learner'),
  tooManyLearners: () => e(GrpcCode.FAILED_PRECONDITION, 'etcdserver: too many learner members in cluster'),
};

/** Maps a storage failure to the error etcd reports for it. */
export function fromMvccError(err: unknown): unknown {
  if (!(err instanceof MvccError)) return err;
  switch (err.code) {
    case 'compacted':
      return Errors.compacted();
    case 'future-revision':
      return Errors.futureRevision();
    case 'key-not-found':
      return Errors.keyNotFound();
    case 'lease-not-found':
      return Errors.leaseNotFound();
    case 'no-space':
      return Errors.noSpace();
  }
}
