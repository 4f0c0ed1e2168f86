import { ApplyResult } from './applier';
import { InternalRequest } from './internal-request';

/**
 * The seam between the request pipeline and consensus: a write is proposed, replicated and
 * applied, and the promise settles with what applying it produced. Reads ask for a read
 * index first so that they observe every write acknowledged before they arrived.
 */
export interface Proposer {
  propose(request: Omit<InternalRequest, 'id'>): Promise<ApplyResult>;
  /** Resolves once this member has applied everything committed when the call was made. */
  readIndex(): Promise<void>;
  /** The current Raft term, commit index and applied index, for headers and Status. */
  readonly term: bigint;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly leaderId: bigint;
  stop(): Promise<void>;
}
