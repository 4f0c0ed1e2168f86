// Safety invariants of Raft, checked incrementally while a simulation runs.
import { contextKey } from '../read-only';
import { Entry, ReadState, Snapshot, StateType } from '../types';
import type { Network, SimNode } from './network';

export class InvariantViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvariantViolation';
  }
}

function entryKey(e: Entry): string {
  return `${e.type}:${Buffer.from(e.data.buffer, e.data.byteOffset, e.data.length).toString('base64')}`;
}

export class InvariantChecker {
  /** Term -> the only node that was ever leader in it. */
  readonly leaders = new Map<bigint, bigint>();
  /** "index/term" -> content and the previous entry's term, for every entry ever persisted. */
  private readonly entries = new Map<string, { key: string; prevTerm: bigint | undefined }>();
  /** Index -> the entry applied there (by anyone). */
  readonly appliedAt = new Map<bigint, { term: bigint; key: string }>();
  /** Applied index -> state machine digest there. */
  private readonly digestAt = new Map<bigint, number>();
  maxApplied = 0n;
  /** Node -> term in which its leadership was last checked for completeness. */
  private readonly checkedLeader = new Map<bigint, bigint>();
  /** ReadIndex context -> the lowest read index that is still linearizable. */
  private readonly readFloor = new Map<string, bigint>();
  readsServed = 0;

  constructor(private readonly net: Network) {}

  private fail(msg: string): never {
    throw new InvariantViolation(`[t=${this.net.now}] ${msg}`);
  }

  /** Cheap checks over every live node, after every simulation step. */
  checkStep(): void {
    for (const sn of this.net.nodes.values()) {
      const r = sn.node?.raft;
      if (!r) continue;
      const log = r.raftLog;
      if (log.committed > log.lastIndex())
        this.fail(`node ${sn.id} committed ${log.committed} > last ${log.lastIndex()}`);
      if (log.applied > log.committed)
        this.fail(`node ${sn.id} applied ${log.applied} > committed ${log.committed}`);
      if (r.state === StateType.Leader) {
        const prev = this.leaders.get(r.term);
        if (prev !== undefined && prev !== sn.id) {
          this.fail(`two leaders in term ${r.term}: ${prev} and ${sn.id}`);
        }
        this.leaders.set(r.term, sn.id);
        if (this.checkedLeader.get(sn.id) !== r.term) {
          this.checkedLeader.set(sn.id, r.term);
          this.checkLeaderCompleteness(sn);
        }
      }
    }
  }

  /** Every entry applied anywhere so far must be in the log of a new leader. */
  checkLeaderCompleteness(sn: SimNode): void {
    const log = sn.node!.raft.raftLog;
    if (log.lastIndex() < this.maxApplied) {
      this.fail(
        `leader ${sn.id} (term ${sn.node!.raft.term}) lacks committed entries: last ${log.lastIndex()} < ${this.maxApplied}`,
      );
    }
    for (let i = log.firstIndex() - 1n; i <= this.maxApplied; i++) {
      const a = this.appliedAt.get(i);
      if (!a) continue;
      const t = log.termOrZero(i);
      if (t !== a.term) {
        this.fail(
          `leader ${sn.id} (term ${sn.node!.raft.term}) has term ${t} at committed index ${i}, expected ${a.term}`,
        );
      }
    }
  }

  /**
   * Log matching, checked on every persisted batch: an (index, term) pair
   * always names the same entry, preceded by the same term. By induction,
   * logs sharing an (index, term) are identical up to it.
   */
  onPersistEntries(sn: SimNode, ents: Entry[]): void {
    let prevTerm: bigint | undefined;
    try {
      prevTerm = sn.storage.term(ents[0].index - 1n);
    } catch {
      prevTerm = undefined;
    }
    for (let i = 0; i < ents.length; i++) {
      const e = ents[i];
      if (i > 0 && e.index !== ents[i - 1].index + 1n)
        this.fail(`node ${sn.id} persists non-contiguous entries`);
      const id = `${e.index}/${e.term}`;
      const key = entryKey(e);
      const prev = i === 0 ? prevTerm : ents[i - 1].term;
      const known = this.entries.get(id);
      if (known) {
        if (known.key !== key)
          this.fail(`two different entries at index ${e.index} term ${e.term} (node ${sn.id})`);
        if (known.prevTerm !== undefined && prev !== undefined && known.prevTerm !== prev) {
          this.fail(
            `log matching violated at index ${e.index} term ${e.term}: previous term ${prev} vs ${known.prevTerm} (node ${sn.id})`,
          );
        }
        if (known.prevTerm === undefined && prev !== undefined) known.prevTerm = prev;
      } else {
        this.entries.set(id, { key, prevTerm: prev });
      }
    }
  }

  /** State machine safety: no two nodes apply different entries at the same index. */
  onApply(sn: SimNode, e: Entry): void {
    const key = entryKey(e);
    const a = this.appliedAt.get(e.index);
    if (a) {
      if (a.term !== e.term || a.key !== key) {
        this.fail(
          `node ${sn.id} applied a different entry at index ${e.index} (term ${e.term} vs ${a.term})`,
        );
      }
    } else {
      this.appliedAt.set(e.index, { term: e.term, key });
      if (e.index > this.maxApplied) this.maxApplied = e.index;
    }
    this.checkDigest(sn);
  }

  onSnapshotInstalled(sn: SimNode, s: Snapshot): void {
    const a = this.appliedAt.get(s.metadata.index);
    if (a && a.term !== s.metadata.term) {
      this.fail(`snapshot at ${s.metadata.index} has term ${s.metadata.term}, applied entry has ${a.term}`);
    }
    this.checkDigest(sn);
  }

  private checkDigest(sn: SimNode): void {
    const d = this.digestAt.get(sn.appliedIndex);
    if (d === undefined) this.digestAt.set(sn.appliedIndex, sn.digest);
    else if (d !== sn.digest) this.fail(`node ${sn.id} state machine diverged at index ${sn.appliedIndex}`);
  }

  /** Registers a ReadIndex request: its answer must be at least the commit index anywhere right now. */
  registerRead(ctx: Uint8Array): void {
    let floor = 0n;
    for (const sn of this.net.nodes.values()) {
      const r = sn.node?.raft;
      if (r && r.raftLog.committed > floor) floor = r.raftLog.committed;
    }
    this.readFloor.set(contextKey(ctx), floor);
  }

  onReadState(sn: SimNode, rs: ReadState): void {
    const floor = this.readFloor.get(contextKey(rs.requestCtx));
    if (floor === undefined) return;
    this.readsServed++;
    if (rs.index < floor)
      this.fail(`stale read on node ${sn.id}: read index ${rs.index} < commit ${floor} at request time`);
  }

  /** Full pairwise comparison of the live nodes' logs (slower; used at the end of runs). */
  checkLogsMatch(): void {
    const live = this.net.liveNodes();
    for (let a = 0; a < live.length; a++) {
      for (let b = a + 1; b < live.length; b++) {
        const la = live[a].node!.raft.raftLog;
        const lb = live[b].node!.raft.raftLog;
        const lo = la.firstIndex() > lb.firstIndex() ? la.firstIndex() : lb.firstIndex();
        const hi = la.lastIndex() < lb.lastIndex() ? la.lastIndex() : lb.lastIndex();
        // Find the highest shared (index, term); everything at or below must agree.
        let top = hi;
        while (top >= lo && la.termOrZero(top) !== lb.termOrZero(top)) top--;
        if (top < lo) continue;
        const ea = la.slice(lo, top + 1n, Number.MAX_SAFE_INTEGER);
        const eb = lb.slice(lo, top + 1n, Number.MAX_SAFE_INTEGER);
        for (let i = 0; i < ea.length; i++) {
          if (ea[i].term !== eb[i].term || entryKey(ea[i]) !== entryKey(eb[i])) {
            this.fail(
              `logs of ${live[a].id} and ${live[b].id} differ at ${ea[i].index} below shared entry ${top}`,
            );
          }
        }
      }
    }
  }
}
