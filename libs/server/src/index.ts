export * from './member';
export * from './etcd-errors';
export * from './logger';
export * from './proto-path';
export type * as pb from './etcd-types';
export type { AutoCompactionPolicy } from './auto-compactor';
export { computeClusterId, computeMemberId } from './identity';
export { parseSnapshot, SNAPSHOT_CHUNK_BYTES } from './snapshot';
export type { LeaderCallHandler } from './proposer';
