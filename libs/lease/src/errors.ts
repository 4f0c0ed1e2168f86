export type LeaseErrorCode = 'not-found' | 'exists' | 'ttl-too-large' | 'not-primary';

/** A lessor refusal; the server maps each code to the error etcd gives. */
export class LeaseError extends Error {
  constructor(readonly code: LeaseErrorCode) {
    super(`lease: ${code}`);
    this.name = 'LeaseError';
  }
}
