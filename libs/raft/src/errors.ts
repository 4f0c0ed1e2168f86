// Typed errors, so a driver can tell "try again elsewhere" from a bug.

/** Base class of every error the library throws on purpose. */
export class RaftError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * A proposal (entry, conf change, read index or transfer request) could not be
 * made: no leader is known, a leadership transfer is in progress, forwarding is
 * disabled, the uncommitted log is full, or a conf change is not allowed now.
 * The client request should fail (or be retried later); nothing was appended.
 */
export class ProposalDroppedError extends RaftError {
  constructor(readonly reason: string) {
    super(`raft proposal dropped: ${reason}`);
  }
}

/** The requested index is older than the storage's first index (compacted away). */
export class CompactedError extends RaftError {
  constructor() {
    super('requested index is unavailable due to compaction');
  }
}

/** The requested index is newer than the storage's last index. */
export class UnavailableError extends RaftError {
  constructor() {
    super('requested entry at index is unavailable');
  }
}

/** A snapshot being applied or created is older than the storage's current one. */
export class SnapshotOutOfDateError extends RaftError {
  constructor() {
    super('requested index is older than the existing snapshot');
  }
}

/** Storage cannot produce a snapshot right now; the leader retries later. */
export class SnapshotTemporarilyUnavailableError extends RaftError {
  constructor() {
    super('snapshot is temporarily unavailable');
  }
}

/** A local-only message (hup, beat, ...) was stepped in from the network. */
export class StepLocalMessageError extends RaftError {
  constructor() {
    super('raft: cannot step raft local message');
  }
}

/** A response arrived from a peer that is not in the configuration. */
export class StepPeerNotFoundError extends RaftError {
  constructor() {
    super('raft: cannot step as peer not found');
  }
}

/** An invalid configuration or membership change. */
export class ConfigError extends RaftError {}
