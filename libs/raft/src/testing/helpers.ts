// Small helpers for driving single nodes by hand in unit tests.
import { RaftNode, Ready } from '../node';
import { RaftConfig } from '../raft';
import { MemoryStorage } from '../storage';
import { EMPTY_BYTES, Entry, EntryType, Message, MessageType, emptyConfState, makeMessage } from '../types';

export const msg = makeMessage;

export function entry(
  index: bigint | number,
  term: bigint | number,
  data: string | Uint8Array = EMPTY_BYTES,
): Entry {
  return {
    index: BigInt(index),
    term: BigInt(term),
    type: EntryType.Normal,
    data: typeof data === 'string' ? Buffer.from(data) : data,
  };
}

/** Entries 1..n with the given terms. */
export function entriesWithTerms(terms: number[], first = 1): Entry[] {
  return terms.map((t, i) => entry(first + i, t));
}

/** A storage holding `terms` as entries 1..n, with the given voters in its conf state. */
export function storageWith(voters: bigint[], terms: number[] = [], learners: bigint[] = []): MemoryStorage {
  const s = new MemoryStorage();
  s.applySnapshot({
    data: EMPTY_BYTES,
    metadata: { index: 1n, term: 1n, confState: { ...emptyConfState(), voters, learners } },
  });
  s.setHardState({ term: 1n, vote: 0n, commit: 1n });
  // Entries start after the bootstrap snapshot at index 1 (term 1).
  if (terms.length > 0) {
    s.append(entriesWithTerms(terms, 2));
    s.setHardState({ term: BigInt(Math.max(...terms)), vote: 0n, commit: 1n });
  }
  return s;
}

/** A single node with its storage, driven by hand: every Ready is persisted at once. */
export class Harness {
  readonly node: RaftNode;
  readonly applied: Entry[] = [];
  readonly readies: Ready[] = [];

  constructor(
    readonly storage: MemoryStorage,
    config: Partial<RaftConfig> & { id: bigint },
  ) {
    this.node = new RaftNode({
      electionTick: 10,
      heartbeatTick: 1,
      maxSizePerMsg: Number.MAX_SAFE_INTEGER,
      maxInflightMsgs: 256,
      storage,
      ...config,
    });
  }

  get raft() {
    return this.node.raft;
  }

  /** Handles every pending Ready; returns the messages it sent (both kinds, in order). */
  flush(): Message[] {
    const out: Message[] = [];
    while (this.node.hasReady()) {
      const rd = this.node.ready();
      this.readies.push(rd);
      out.push(...rd.messages);
      if (rd.snapshot) this.storage.applySnapshot(rd.snapshot);
      this.storage.append(rd.entries);
      if (rd.hardState) this.storage.setHardState(rd.hardState);
      out.push(...rd.messagesAfterPersist);
      this.applied.push(...rd.committedEntries);
      this.node.advance();
    }
    return out;
  }

  /** Steps a message and returns what the node sends in response. */
  deliver(m: Message): Message[] {
    this.node.step(m);
    return this.flush();
  }
}

/** Messages of one type. */
export function ofType(msgs: Message[], t: MessageType): Message[] {
  return msgs.filter((m) => m.type === t);
}

export function text(e: Entry): string {
  return Buffer.from(e.data).toString();
}

/**
 * Delivers messages between hand-driven nodes until none are left; returns
 * every message delivered. `filter` returning false drops a message.
 */
export function pump(
  nodes: Map<bigint, Harness>,
  initial: Message[],
  filter?: (m: Message) => boolean,
): Message[] {
  const queue = [...initial];
  const delivered: Message[] = [];
  for (let n = 0; queue.length > 0; n++) {
    if (n > 100000) throw new Error('pump does not quiesce');
    const m = queue.shift()!;
    if (filter && !filter(m)) continue;
    const h = nodes.get(m.to);
    if (!h) continue;
    delivered.push(m);
    queue.push(...h.deliver({ ...m }));
  }
  return delivered;
}

/** Makes a hand-driven node leader by feeding it the votes it needs. */
export function forceLeader(h: Harness, voters: bigint[]): Message[] {
  h.node.campaign();
  let out = h.flush();
  for (const id of voters) {
    if (id === h.raft.id || h.raft.state === 2) continue;
    out = out.concat(
      h.deliver(msg({ type: MessageType.VoteResp, from: id, to: h.raft.id, term: h.raft.term })),
    );
  }
  if (h.raft.state !== 2) throw new Error('could not make leader');
  return out;
}
