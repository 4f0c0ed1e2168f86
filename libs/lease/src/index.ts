export { Lessor, MAX_LEASE_TTL, REVOKE_RETRY_MS, minLeaseTtl } from './lessor';
export type { LessorOptions, LeaseTimeToLive } from './lessor';
export { ExpiryLoop } from './expiry-loop';
export type { ExpiryLoopOptions } from './expiry-loop';
export { LeaseIdGenerator } from './lease-id';
export { LeaseError } from './errors';
export type { LeaseErrorCode } from './errors';
