// libs/consensus: drives libs/raft on the member's RocksDB (durable log, ready loop, read index).
export { RaftLogStore, ENTRY_PREFIX, entryKey } from './raft-log-store';
export type { PersistRequest } from './raft-log-store';
export { RaftDriver, DriverStoppedError } from './raft-driver';
export type { RaftDriverOptions, ConsensusLogger } from './raft-driver';
