// libs/consensus: drives libs/raft on the member's RocksDB (durable log, ready loop, read index).
export { RaftLogStore, ENTRY_PREFIX, CONF_STATE_KEY, entryKey } from './raft-log-store';
export type { PersistRequest } from './raft-log-store';
export { RaftDriver, DriverStoppedError, NoLeaderTimeoutError, ReadTimeoutError } from './raft-driver';
export { PeerTransport, PeerCallError, fetchMembers } from './peer-transport';
export type { PeerListener, PeerTransportOptions, PeerTransportSink, CallHandler } from './peer-transport';
export type { RaftDriverOptions, ConsensusLogger } from './raft-driver';
export {
  SnapshotStaging,
  ImageKeys,
  ImageChecksum,
  SnapshotBusyError,
  STAGING_PREFIX,
} from './snapshot-staging';
export type { StagingWriter } from './snapshot-staging';
export { sendSnapshot, receiveSnapshot } from './snapshot-transfer';
export {
  CERT_AUTH_FAILED,
  certificateRefusal,
  channelCredentials,
  serverCredentials,
} from './tls-credentials';
export type { TlsMaterial } from './tls-credentials';
