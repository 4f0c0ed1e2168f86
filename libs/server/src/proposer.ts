import { ApplyResult } from './applier';
import { ConfChangeType } from '../../raft/src';
import { InternalRequest } from './internal-request';
import { ClusterMember } from './membership';

/** Runs on the leader for a call made on any member; `from` is the calling member's id. */
export type LeaderCallHandler = (payload: Buffer, from: bigint) => Promise<Uint8Array>;

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
  /** This member is a learner: it serves serializable reads and Status only, as in etcd. */
  readonly isLearner: boolean;
  /** Proposes a membership change; resolves once applied (see RaftProposer.changeMembership). */
  changeMembership(type: ConfChangeType, nodeId: bigint, member?: ClusterMember): Promise<void>;
  /** On the leader: how far `id`'s log matches the leader's. */
  matchOf(id: bigint): { match: bigint; leaderMatch: bigint } | undefined;
  /** Whether `id` is a voting member. */
  isVoter(id: bigint): boolean;
  /** On the leader: hands leadership to `id`; resolves once it leads (etcd's MoveLeader). */
  moveLeader(id: bigint): Promise<void>;
  /** Runs a forwarded-call handler on the leader (see RaftProposer.callLeader). */
  callLeader(method: string, payload: Uint8Array): Promise<Buffer>;
  /** Registers the handler `callLeader(method, ...)` runs on the leader. */
  onLeaderCall(method: string, handler: LeaderCallHandler): void;
  /** Since when this member has been connected to peer `id` (Date.now()), 0 when it is not. */
  activeSince(id: bigint): number;
  /** Resolves once this member learns it was removed from the cluster. */
  readonly removed: Promise<void>;
  /** Registers the handler `callPeer(id, method, ...)` runs on this member, whatever its role. */
  onPeerCall(method: string, handler: LeaderCallHandler): void;
  /** Runs `method`'s handler on member `id`; rejects when it cannot be reached or fails. */
  callPeer(id: bigint, method: string, payload: Uint8Array): Promise<Buffer>;
  stop(): Promise<void>;
}
