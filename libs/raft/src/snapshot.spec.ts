import { SnapshotTemporarilyUnavailableError } from './errors';
import { ProgressState } from './progress';
import { MemoryStorage } from './storage';
import { Harness, forceLeader, msg, ofType, storageWith } from './testing/helpers';
import { Network } from './testing/network';
import { EMPTY_BYTES, MessageType, Snapshot, SnapshotStatus, emptyConfState } from './types';

const ids = [1n, 2n, 3n];

function snapshotAt(index: bigint, term: bigint, voters = ids): Snapshot {
  return { data: Buffer.from('sm'), metadata: { index, term, confState: { ...emptyConfState(), voters } } };
}

describe('snapshots and log compaction', () => {
  it('brings a follower that is far behind up to date with a snapshot', () => {
    const net = new Network({ seed: 1, voters: ids, compactEvery: 10 });
    const l = net.waitForLeader();
    net.stabilize();
    const f = ids.find((id) => id !== l)!;
    net.crash(f);
    for (let i = 0; i < 60; i++) net.propose(l, `v${i}`);
    net.stabilize();
    expect(net.node(l).storage.firstIndex()).toBeGreaterThan(net.node(f).storage.lastIndex() + 1n);
    net.restart(f);
    net.tick(3);
    net.stabilize();
    expect(net.stats.snapshotsSent).toBeGreaterThan(0);
    expect(net.node(f).appliedIndex).toBe(net.node(l).appliedIndex);
    expect(net.node(f).digest).toBe(net.node(l).digest);
    expect(net.raft(l).raft.trk.progress.get(f)!.state).toBe(ProgressState.Replicate);
    // And keeps replicating normally afterwards.
    net.propose(l, 'after');
    net.stabilize();
    expect(net.node(f).appliedData()).toContain('after');
  });

  it('retries a snapshot whose sending failed', () => {
    const net = new Network({ seed: 2, voters: ids, compactEvery: 5 });
    const l = net.waitForLeader();
    net.stabilize();
    const f = ids.find((id) => id !== l)!;
    net.crash(f);
    for (let i = 0; i < 20; i++) net.propose(l, `v${i}`);
    net.stabilize();
    let failures = 0;
    net.filter = (m) => {
      if (m.type === MessageType.Snap && failures < 2) {
        failures++;
        return false; // the network reports the failure to the leader
      }
      return true;
    };
    net.restart(f);
    net.tick(10);
    net.stabilize();
    expect(failures).toBe(2);
    expect(net.node(f).appliedIndex).toBe(net.node(l).appliedIndex);
  });

  it('moves a follower to probe, paused, after a snapshot report', () => {
    const h = new Harness(storageWith(ids), { id: 1n });
    forceLeader(h, ids);
    const pr = h.raft.trk.progress.get(2n)!;
    pr.becomeSnapshot(10n);
    h.node.reportSnapshot(2n, SnapshotStatus.Finish);
    expect([pr.state, pr.next, pr.msgAppFlowPaused]).toEqual([ProgressState.Probe, 11n, true]);
    pr.becomeSnapshot(10n);
    h.node.reportSnapshot(2n, SnapshotStatus.Failure);
    // On failure the pending snapshot is forgotten: probe from match+1.
    expect([pr.state, pr.next, pr.pendingSnapshot]).toEqual([ProgressState.Probe, pr.match + 1n, 0n]);
  });

  it('does not send snapshots to followers that were not heard from', () => {
    const s = storageWith(ids, [1, 1, 1, 1]);
    s.createSnapshot(4n, { ...emptyConfState(), voters: ids }, EMPTY_BYTES);
    s.compact(4n);
    const h = new Harness(s, { id: 1n });
    forceLeader(h, ids);
    h.flush();
    const pr = h.raft.trk.progress.get(2n)!;
    pr.next = 2n;
    pr.recentActive = false;
    pr.msgAppFlowPaused = false;
    h.raft.sendAppend(2n);
    expect(ofType(h.flush(), MessageType.Snap)).toEqual([]);
    pr.recentActive = true;
    pr.msgAppFlowPaused = false;
    h.raft.sendAppend(2n);
    const snaps = ofType(h.flush(), MessageType.Snap);
    expect(snaps.map((m) => m.snapshot!.metadata.index)).toEqual([4n]);
    expect(pr.state).toBe(ProgressState.Snapshot);
  });

  it('waits while the storage cannot produce a snapshot', () => {
    class Flaky extends MemoryStorage {
      failures = 2;
      override snapshot(): Snapshot {
        if (this.failures > 0) {
          this.failures--;
          throw new SnapshotTemporarilyUnavailableError();
        }
        return super.snapshot();
      }
    }
    const s = new Flaky();
    s.applySnapshot(snapshotAt(1n, 1n));
    s.append(
      [1, 1, 1].map((t, i) => ({ index: BigInt(i + 2), term: BigInt(t), type: 0, data: EMPTY_BYTES })),
    );
    s.createSnapshot(4n, undefined, EMPTY_BYTES);
    s.compact(4n);
    s.failures = 2;
    const h = new Harness(s, { id: 1n });
    forceLeader(h, ids);
    h.flush();
    const pr = h.raft.trk.progress.get(2n)!;
    pr.recentActive = true;
    pr.next = 2n;
    pr.msgAppFlowPaused = false;
    h.raft.sendAppend(2n);
    h.raft.sendAppend(2n);
    expect(ofType(h.flush(), MessageType.Snap)).toEqual([]);
    expect(pr.state).toBe(ProgressState.Probe);
    expect(s.failures).toBe(0);
    h.raft.sendAppend(2n);
    expect(ofType(h.flush(), MessageType.Snap)).toHaveLength(1);
  });

  it('installs a snapshot through the Ready and continues after it', () => {
    const h = new Harness(storageWith(ids, [1, 1]), { id: 2n });
    h.node.step(msg({ type: MessageType.Snap, from: 1n, to: 2n, term: 3n, snapshot: snapshotAt(20n, 2n) }));
    const rd = h.node.ready();
    expect(rd.snapshot?.metadata.index).toBe(20n);
    expect(rd.committedEntries).toEqual([]);
    expect(rd.hardState).toMatchObject({ term: 3n, commit: 20n });
    expect(rd.messagesAfterPersist).toMatchObject([{ type: MessageType.AppResp, to: 1n, index: 20n }]);
    h.storage.applySnapshot(rd.snapshot!);
    h.storage.setHardState(rd.hardState!);
    h.node.advance();
    expect(h.raft.raftLog.applied).toBe(20n);
    const out = h.deliver(
      msg({
        type: MessageType.App,
        from: 1n,
        to: 2n,
        term: 3n,
        index: 20n,
        logTerm: 2n,
        commit: 21n,
        entries: [{ index: 21n, term: 3n, type: 0, data: Buffer.from('n') }],
      }),
    );
    expect(out).toMatchObject([{ type: MessageType.AppResp, index: 21n }]);
    expect(h.applied.map((e) => e.index)).toEqual([21n]);
  });

  it('ignores snapshots it already covers, and fast-forwards when it has the entry', () => {
    const h = new Harness(storageWith(ids, [2, 2, 2]), { id: 2n });
    h.deliver(msg({ type: MessageType.Heartbeat, from: 1n, to: 2n, term: 2n, commit: 3n }));
    expect(h.raft.raftLog.committed).toBe(3n);
    // Older than the commit index: ignored, answered with the commit index.
    let out = h.deliver(
      msg({ type: MessageType.Snap, from: 1n, to: 2n, term: 2n, snapshot: snapshotAt(2n, 2n) }),
    );
    expect(out).toMatchObject([{ type: MessageType.AppResp, index: 3n }]);
    // The log already has (4, 2): only the commit index moves.
    out = h.deliver(
      msg({ type: MessageType.Snap, from: 1n, to: 2n, term: 2n, snapshot: snapshotAt(4n, 2n) }),
    );
    expect(out).toMatchObject([{ type: MessageType.AppResp, index: 4n }]);
    expect(h.raft.raftLog.committed).toBe(4n);
    expect(h.raft.raftLog.hasNextOrInProgressSnapshot()).toBe(false);
    expect(h.storage.lastIndex()).toBe(4n);
  });

  it('restarts from a compacted storage', () => {
    const net = new Network({ seed: 3, voters: ids, compactEvery: 4 });
    const l = net.waitForLeader();
    for (let i = 0; i < 12; i++) net.propose(l, `v${i}`);
    net.stabilize();
    for (const id of ids) {
      const before = net.node(id).appliedIndex;
      net.crash(id);
      net.restart(id);
      expect(net.raft(id).raft.raftLog.firstIndex()).toBeGreaterThan(2n);
      net.stabilize();
      expect(net.node(id).appliedIndex).toBe(before);
    }
    net.waitForLeader();
  });
});
