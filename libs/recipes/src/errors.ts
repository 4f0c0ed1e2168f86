import { CairnError } from '../../client/src';

/** The session's lease expired or was revoked: whatever it held (locks, leadership) is gone. */
export class SessionExpiredError extends CairnError {
  override name = 'SessionExpiredError';
}
/** tryLock found the lock held by someone else. */
export class LockedError extends CairnError {
  override name = 'LockedError';
}
/** The caller is not (any more) the leader it claims to be. */
export class NotLeaderError extends CairnError {
  override name = 'NotLeaderError';
}
/** An election has no leader right now. */
export class NoLeaderElectedError extends CairnError {
  override name = 'NoLeaderElectedError';
}
/** An STM transaction kept conflicting until its retries ran out. */
export class StmConflictError extends CairnError {
  override name = 'StmConflictError';
}
