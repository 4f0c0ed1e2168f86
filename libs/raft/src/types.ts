// Plain data types shared by every module of the Raft library. Ids, terms
// and indexes are bigint: member ids use the full uint64 range.

/** The "no node" id (ids are never 0). */
export const NONE = 0n;

export enum EntryType {
  Normal = 0,
  ConfChange = 1,
  ConfChangeV2 = 2,
}

export interface Entry {
  term: bigint;
  index: bigint;
  type: EntryType;
  data: Uint8Array;
}

export interface HardState {
  term: bigint;
  vote: bigint;
  commit: bigint;
}

export interface ConfState {
  voters: bigint[];
  learners: bigint[];
  votersOutgoing: bigint[];
  learnersNext: bigint[];
  autoLeave: boolean;
}

export interface SnapshotMetadata {
  index: bigint;
  term: bigint;
  confState: ConfState;
}

export interface Snapshot {
  data: Uint8Array;
  metadata: SnapshotMetadata;
}

export enum MessageType {
  Hup = 0,
  Beat = 1,
  Prop = 2,
  App = 3,
  AppResp = 4,
  Vote = 5,
  VoteResp = 6,
  Snap = 7,
  Heartbeat = 8,
  HeartbeatResp = 9,
  Unreachable = 10,
  SnapStatus = 11,
  CheckQuorum = 12,
  TransferLeader = 13,
  TimeoutNow = 14,
  ReadIndex = 15,
  ReadIndexResp = 16,
  PreVote = 17,
  PreVoteResp = 18,
}

export interface Message {
  type: MessageType;
  to: bigint;
  from: bigint;
  term: bigint;
  logTerm: bigint;
  index: bigint;
  entries: Entry[];
  commit: bigint;
  snapshot?: Snapshot;
  reject: boolean;
  rejectHint: bigint;
  context: Uint8Array;
}

export enum ConfChangeType {
  AddNode = 0,
  RemoveNode = 1,
  UpdateNode = 2,
  AddLearnerNode = 3,
}

/** A single-server membership change, as carried by an EntryType.ConfChange entry. */
export interface ConfChange {
  type: ConfChangeType;
  nodeId: bigint;
  context: Uint8Array;
  /** Opaque id chosen by the application (for matching the apply with its waiter). */
  id: bigint;
}

export interface ConfChangeSingle {
  type: ConfChangeType;
  nodeId: bigint;
}

export enum ConfChangeTransition {
  /** One change: applied directly. Several: joint consensus, left automatically. */
  Auto = 0,
  /** Joint consensus, left automatically once the entering entry is applied. */
  JointImplicit = 1,
  /** Joint consensus; the application proposes the (empty) leave change itself. */
  JointExplicit = 2,
}

/** Zero or more changes; no changes means "leave the current joint configuration". */
export interface ConfChangeV2 {
  transition: ConfChangeTransition;
  changes: ConfChangeSingle[];
  context: Uint8Array;
}

export enum StateType {
  Follower = 0,
  Candidate = 1,
  Leader = 2,
  PreCandidate = 3,
}

export const STATE_NAMES: Record<StateType, string> = {
  [StateType.Follower]: 'follower',
  [StateType.Candidate]: 'candidate',
  [StateType.Leader]: 'leader',
  [StateType.PreCandidate]: 'pre-candidate',
};

export interface SoftState {
  lead: bigint;
  raftState: StateType;
}

/** The answer to a ReadIndex request: reads for `requestCtx` may be served once `index` is applied. */
export interface ReadState {
  index: bigint;
  requestCtx: Uint8Array;
}

export enum ReadOnlyOption {
  /** Confirm leadership with a heartbeat round to a quorum (linearizable, the default). */
  Safe = 0,
  /** Trust the leader lease guaranteed by check-quorum (faster; relies on bounded clock drift). */
  LeaseBased = 1,
}

export enum SnapshotStatus {
  Finish = 0,
  Failure = 1,
}

export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

export function emptyHardState(): HardState {
  return { term: 0n, vote: 0n, commit: 0n };
}

export function isEmptyHardState(hs: HardState): boolean {
  return hs.term === 0n && hs.vote === 0n && hs.commit === 0n;
}

export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

export function emptyConfState(): ConfState {
  return { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
}

export function emptySnapshot(): Snapshot {
  return { data: EMPTY_BYTES, metadata: { index: 0n, term: 0n, confState: emptyConfState() } };
}

export function isEmptySnapshot(s: Snapshot | undefined): boolean {
  return s === undefined || s.metadata.index === 0n;
}

/** Builds a message with every unset field at its zero value. */
export function makeMessage(m: Partial<Message> & { type: MessageType }): Message {
  return {
    type: m.type,
    to: m.to ?? NONE,
    from: m.from ?? NONE,
    term: m.term ?? 0n,
    logTerm: m.logTerm ?? 0n,
    index: m.index ?? 0n,
    entries: m.entries ?? [],
    commit: m.commit ?? 0n,
    snapshot: m.snapshot,
    reject: m.reject ?? false,
    rejectHint: m.rejectHint ?? 0n,
    context: m.context ?? EMPTY_BYTES,
  };
}

/** Messages that only ever travel from the application into the local node. */
export function isLocalMessage(t: MessageType): boolean {
  return (
    t === MessageType.Hup ||
    t === MessageType.Beat ||
    t === MessageType.Unreachable ||
    t === MessageType.SnapStatus ||
    t === MessageType.CheckQuorum
  );
}

/** Responses: what a peer answers to a request. */
export function isResponseMessage(t: MessageType): boolean {
  return (
    t === MessageType.AppResp ||
    t === MessageType.VoteResp ||
    t === MessageType.HeartbeatResp ||
    t === MessageType.Unreachable ||
    t === MessageType.PreVoteResp
  );
}

export function voteResponseType(t: MessageType): MessageType {
  if (t === MessageType.Vote) return MessageType.VoteResp;
  if (t === MessageType.PreVote) return MessageType.PreVoteResp;
  throw new Error(`not a vote message: ${MessageType[t]}`);
}

/** Rough wire size of an entry, used for message and batch size limits. */
export function entrySize(e: Entry): number {
  return e.data.length + 24;
}

export function entriesSize(ents: readonly Entry[]): number {
  let n = 0;
  for (let i = 0; i < ents.length; i++) n += ents[i].data.length + 24;
  return n;
}

/** The leading entries whose total size fits maxSize; always at least one entry. */
export function limitSize(ents: Entry[], maxSize: number): Entry[] {
  if (ents.length <= 1) return ents;
  let size = entrySize(ents[0]);
  let i = 1;
  for (; i < ents.length; i++) {
    size += entrySize(ents[i]);
    if (size > maxSize) break;
  }
  return i === ents.length ? ents : ents.slice(0, i);
}

export function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

export function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

export const NO_LIMIT = Number.MAX_SAFE_INTEGER;
