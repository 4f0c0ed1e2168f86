/** Failures the MVCC store reports to callers; the API layer maps each code to etcd's gRPC status and message. */
export type MvccErrorCode =
  'compacted' | 'future-revision' | 'key-not-found' | 'lease-not-found' | 'no-space';

const MESSAGES: Record<MvccErrorCode, string> = {
  compacted: 'mvcc: required revision has been compacted',
  'future-revision': 'mvcc: required revision is a future revision',
  'key-not-found': 'key not found',
  'lease-not-found': 'requested lease not found',
  'no-space': 'mvcc: database space exceeded',
};

export class MvccError extends Error {
  constructor(readonly code: MvccErrorCode) {
    super(MESSAGES[code]);
    this.name = 'MvccError';
  }
}
