import { ConfigError, ProposalDroppedError } from './errors';
import { Harness, forceLeader, ofType, storageWith } from './testing/helpers';
import { Network } from './testing/network';
import { MessageType, ReadOnlyOption } from './types';

const ids = [1n, 2n, 3n];
const ctx = (s: string) => Buffer.from(s);
const str = (u: Uint8Array) => Buffer.from(u).toString();

function setup(seed: number, raft = {}) {
  const net = new Network({ seed, voters: ids, raft });
  const l = net.waitForLeader();
  net.stabilize();
  return { net, l, followers: ids.filter((id) => id !== l) };
}

describe('ReadIndex', () => {
  it('answers on the leader after a heartbeat round to a quorum', () => {
    const { net, l } = setup(1);
    net.propose(l, 'w');
    net.stabilize();
    let beats = 0;
    net.onSend = (m) => {
      if (m.type === MessageType.Heartbeat && str(m.context) === 'r1') beats++;
    };
    net.raft(l).readIndex(ctx('r1'));
    expect(net.node(l).readStates).toEqual([]);
    net.stabilize();
    expect(beats).toBe(2);
    expect(net.node(l).readStates.map((rs) => [rs.index, str(rs.requestCtx)])).toEqual([
      [net.raft(l).raft.raftLog.committed, 'r1'],
    ]);
  });

  it('batches the requests of one Ready into a single heartbeat round', () => {
    const { net, l } = setup(2);
    let beats = 0;
    net.onSend = (m) => {
      if (m.type === MessageType.Heartbeat) beats++;
    };
    for (let i = 0; i < 10; i++) net.raft(l).readIndex(ctx(`r${i}`));
    net.stabilize();
    expect(beats).toBe(2);
    expect(net.node(l).readStates.map((rs) => str(rs.requestCtx))).toEqual(
      Array.from({ length: 10 }, (_, i) => `r${i}`),
    );
  });

  it('forwards requests from followers and answers them there', () => {
    const { net, l, followers } = setup(3);
    net.propose(l, 'w');
    net.stabilize();
    net.raft(followers[0]).readIndex(ctx('f1'));
    net.stabilize();
    const rs = net.node(followers[0]).readStates;
    expect(rs.map((r) => str(r.requestCtx))).toEqual(['f1']);
    expect(rs[0].index).toBe(net.raft(l).raft.raftLog.committed);
  });

  it('waits until a new leader has committed an entry of its term', () => {
    const h = new Harness(storageWith(ids, [1, 1]), { id: 1n });
    forceLeader(h, ids);
    h.flush();
    h.node.readIndex(ctx('early'));
    expect(ofType(h.flush(), MessageType.Heartbeat)).toEqual([]);
    // Followers acknowledge the no-op: the request is released with a heartbeat round.
    const last = h.raft.raftLog.lastIndex();
    h.node.step({ ...ofTypeMsg(MessageType.AppResp), from: 2n, to: 1n, term: h.raft.term, index: last });
    const out = h.flush();
    expect(ofType(out, MessageType.Heartbeat).map((m) => str(m.context))).toEqual(['early', 'early']);
    h.node.step({
      ...ofTypeMsg(MessageType.HeartbeatResp),
      from: 3n,
      to: 1n,
      term: h.raft.term,
      context: ctx('early'),
    });
    h.flush();
    const rs = h.readies.flatMap((r) => r.readStates);
    expect(rs.map((r) => [r.index, str(r.requestCtx)])).toEqual([[last, 'early']]);
  });

  it('never answers in a minority partition, and answers in the majority', () => {
    const { net, l, followers } = setup(4);
    net.isolate(l);
    net.raft(l).readIndex(ctx('old'));
    net.tick(30);
    expect(net.node(l).readStates).toEqual([]);
    const l2 = net.waitForLeader();
    expect(followers).toContain(l2);
    net.propose(l2, 'new');
    net.tick(2);
    net.raft(l2).readIndex(ctx('fresh'));
    net.tick(2);
    const rs = net.node(l2).readStates;
    expect(rs.map((r) => str(r.requestCtx))).toEqual(['fresh']);
    expect(rs[0].index).toBeGreaterThanOrEqual(net.raft(l2).raft.raftLog.committed - 1n);
  });

  it('answers at once with the lease-based option, which requires check-quorum', () => {
    expect(
      () => new Network({ seed: 5, voters: ids, raft: { readOnlyOption: ReadOnlyOption.LeaseBased } }),
    ).toThrow(ConfigError);
    const { net, l } = setup(5, { readOnlyOption: ReadOnlyOption.LeaseBased, checkQuorum: true });
    let beats = 0;
    net.onSend = (m) => {
      if (m.type === MessageType.Heartbeat) beats++;
    };
    net.raft(l).readIndex(ctx('lease'));
    net.stabilize();
    expect(beats).toBe(0);
    expect(net.node(l).readStates.map((r) => str(r.requestCtx))).toEqual(['lease']);
  });

  it('a single voter answers immediately', () => {
    const net = new Network({ seed: 6, voters: [1n] });
    net.waitForLeader();
    net.raft(1n).readIndex(ctx('solo'));
    net.stabilize();
    expect(net.node(1n).readStates.map((r) => str(r.requestCtx))).toEqual(['solo']);
  });

  it('fails visibly without a leader or with a duplicate context', () => {
    const net = new Network({ seed: 7, voters: ids });
    expect(() => net.raft(1n).readIndex(ctx('x'))).toThrow(ProposalDroppedError);
    const l = net.waitForLeader();
    net.stabilize();
    net.raft(l).readIndex(ctx('dup'));
    expect(() => net.raft(l).readIndex(ctx('dup'))).toThrow(ProposalDroppedError);
  });
});

function ofTypeMsg(type: MessageType) {
  return {
    type,
    to: 0n,
    from: 0n,
    term: 0n,
    logTerm: 0n,
    index: 0n,
    entries: [],
    commit: 0n,
    reject: false,
    rejectHint: 0n,
    context: new Uint8Array(),
  };
}
