// Public API of libs/raft: the Raft algorithm as a pure state machine.
export * from './types';
export * from './errors';
export type { RaftLogger } from './logger';
export { silentLogger } from './logger';
export type { RandomSource } from './rand';
export { SeededRandom } from './rand';
export type { Storage } from './storage';
export { MemoryStorage, cloneConfState, cloneSnapshot } from './storage';
export type { RaftConfig } from './raft';
export { CampaignType, validateConfig } from './raft';
export type { Ready, Status, ProgressStatus } from './node';
export { RaftNode, bootstrapStorage } from './node';
export { ProgressState } from './progress';
export { VoteResult } from './quorum';
export { asConfChangeV2, confChangeToV2, enterJointOf, isLeaveJoint, leaveJointChange } from './confchange';
export {
  decodeConfChange,
  decodeConfChangeEntry,
  decodeConfChangeV2,
  decodeConfState,
  decodeEntry,
  decodeHardState,
  decodeMessage,
  decodeSnapshot,
  decodeSnapshotMetadata,
  encodeConfChange,
  encodeConfChangeV2,
  encodeConfState,
  encodeEntry,
  encodeHardState,
  encodeMessage,
  encodeSnapshot,
  encodeSnapshotMetadata,
  raftProtoRoot,
} from './codec';
