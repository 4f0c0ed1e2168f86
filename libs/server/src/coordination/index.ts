export { LockService } from './lock-service';
export type { LockRequest, LockResponse } from './lock-service';
export { ElectionService } from './election-service';
export type { LeaderKey, LeaderResponse } from './election-service';
