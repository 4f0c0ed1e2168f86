// Random schedules of proposals, reads, faults and membership changes, run
// against the simulated network; used by the property-based tests.
import { ProposalDroppedError } from '../errors';
import {
  ConfChangeSingle,
  ConfChangeTransition,
  ConfChangeType,
  EMPTY_BYTES,
  ReadOnlyOption,
} from '../types';
import { NO_FAULTS, Network } from './network';

export type Op =
  | { k: 'tick'; n: number }
  | { k: 'propose'; node: number; count: number }
  | { k: 'read'; node: number }
  | { k: 'crash'; node: number }
  | { k: 'restart'; node: number }
  | { k: 'isolate'; node: number }
  | { k: 'partition'; mask: number }
  | { k: 'healPartitions' }
  | { k: 'faults'; drop: number; dup: number; delay: number; split: number }
  | { k: 'transfer'; node: number }
  | { k: 'campaign'; node: number }
  | { k: 'conf'; change: ConfOp; onLeader: boolean; node: number };

export type ConfOp =
  | { c: 'addVoter' }
  | { c: 'addLearner' }
  | { c: 'promote'; pick: number }
  | { c: 'demote'; pick: number }
  | { c: 'remove'; pick: number }
  | { c: 'replace'; pick: number; transition: ConfChangeTransition }
  | { c: 'jointAddTwo'; transition: ConfChangeTransition }
  | { c: 'leaveJoint' };

export interface ScheduleConfig {
  seed: number;
  voters: number;
  learners: number;
  preVote: boolean;
  checkQuorum: boolean;
  encode: boolean;
  compactEvery: number;
  maxInflight: number;
  maxSizePerMsg: number;
}

export interface ScheduleResult {
  net: Network;
  proposed: number;
  dropped: number;
  reads: number;
  healTicks: number;
}

const MAX_NODES = 7;

/** Runs the schedule, then heals everything and demands progress within `livenessTicks`. */
export function runSchedule(cfg: ScheduleConfig, ops: Op[], livenessTicks = 400): ScheduleResult {
  const voters = Array.from({ length: cfg.voters }, (_, i) => BigInt(i + 1));
  const learners = Array.from({ length: cfg.learners }, (_, i) => BigInt(cfg.voters + i + 1));
  const net = new Network({
    seed: cfg.seed,
    voters,
    learners,
    encode: cfg.encode,
    compactEvery: cfg.compactEvery,
    compactKeep: 2,
    raft: {
      electionTick: 10,
      heartbeatTick: 1,
      preVote: cfg.preVote,
      checkQuorum: cfg.checkQuorum,
      maxInflightMsgs: cfg.maxInflight,
      maxSizePerMsg: cfg.maxSizePerMsg,
      readOnlyOption: ReadOnlyOption.Safe,
    },
  });
  let nextId = BigInt(voters.length + learners.length + 1);
  let proposed = 0;
  let dropped = 0;
  let reads = 0;
  let seq = 0;
  const ids = (): bigint[] => [...net.nodes.keys()].filter((id) => !net.node(id).stopped);
  const pick = (n: number): bigint => {
    const all = ids();
    return all[n % all.length];
  };
  const live = (n: number): bigint | undefined => {
    const all = net.liveNodes().map((s) => s.id);
    return all.length === 0 ? undefined : all[n % all.length];
  };
  const attempt = (f: () => void): void => {
    try {
      f();
    } catch (e) {
      if (!(e instanceof ProposalDroppedError)) throw e;
      dropped++;
    }
  };

  for (const op of ops) {
    switch (op.k) {
      case 'tick':
        net.tick(op.n);
        break;
      case 'propose': {
        const id = live(op.node);
        if (id === undefined) break;
        const datas = Array.from({ length: op.count }, () => Buffer.from(`v${seq++}`));
        proposed += datas.length;
        attempt(() => net.raft(id).proposeBatch(datas));
        break;
      }
      case 'read': {
        const id = live(op.node);
        if (id === undefined) break;
        const ctx = Buffer.from(`r${seq++}`);
        reads++;
        attempt(() => {
          net.checker.registerRead(ctx);
          net.raft(id).readIndex(ctx);
        });
        break;
      }
      case 'crash': {
        const id = live(op.node);
        if (id !== undefined) net.crash(id);
        break;
      }
      case 'restart': {
        const down = ids().filter((id) => !net.node(id).alive);
        if (down.length > 0) net.restart(down[op.node % down.length]);
        break;
      }
      case 'isolate':
        net.isolate(pick(op.node));
        break;
      case 'partition': {
        const all = ids();
        const a = all.filter((_, i) => (op.mask >> i) & 1);
        const b = all.filter((_, i) => !((op.mask >> i) & 1));
        net.partition([a, b]);
        break;
      }
      case 'healPartitions':
        net.healPartitions();
        break;
      case 'faults':
        net.faults = {
          dropRate: op.drop,
          duplicateRate: op.dup,
          maxDelay: op.delay,
          splitReadyRate: op.split,
          reportUnreachableRate: 0.3,
        };
        break;
      case 'transfer': {
        const l = net.leader();
        if (l) attempt(() => l.node!.transferLeadership(pick(op.node)));
        break;
      }
      case 'campaign': {
        const id = live(op.node);
        if (id !== undefined) attempt(() => net.raft(id).campaign());
        break;
      }
      case 'conf': {
        const target = op.onLeader ? net.leader()?.id : live(op.node);
        if (target === undefined) break;
        const cs = net.latestConfState();
        const voterIds = cs.voters;
        const learnerIds = cs.learners;
        const fresh = (): bigint | undefined => {
          if (net.nodes.size >= MAX_NODES) return undefined;
          const id = nextId++;
          net.addNode(id);
          return id;
        };
        let changes: ConfChangeSingle[] | undefined;
        let transition = ConfChangeTransition.Auto;
        const ch = op.change;
        switch (ch.c) {
          case 'addVoter': {
            const id = fresh();
            if (id !== undefined) changes = [{ type: ConfChangeType.AddNode, nodeId: id }];
            break;
          }
          case 'addLearner': {
            const id = fresh();
            if (id !== undefined) changes = [{ type: ConfChangeType.AddLearnerNode, nodeId: id }];
            break;
          }
          case 'promote':
            if (learnerIds.length > 0) {
              changes = [{ type: ConfChangeType.AddNode, nodeId: learnerIds[ch.pick % learnerIds.length] }];
            }
            break;
          case 'demote':
            if (voterIds.length > 1) {
              changes = [
                { type: ConfChangeType.AddLearnerNode, nodeId: voterIds[ch.pick % voterIds.length] },
              ];
            }
            break;
          case 'remove': {
            const members = [...voterIds, ...learnerIds];
            if (members.length > 1)
              changes = [{ type: ConfChangeType.RemoveNode, nodeId: members[ch.pick % members.length] }];
            break;
          }
          case 'replace': {
            const id = fresh();
            if (id !== undefined && voterIds.length > 0) {
              changes = [
                { type: ConfChangeType.AddNode, nodeId: id },
                { type: ConfChangeType.RemoveNode, nodeId: voterIds[ch.pick % voterIds.length] },
              ];
              transition = ch.transition;
            }
            break;
          }
          case 'jointAddTwo': {
            const a = fresh();
            const b = fresh();
            const add = [a, b].filter((x): x is bigint => x !== undefined);
            if (add.length > 0) {
              changes = add.map((id) => ({ type: ConfChangeType.AddNode, nodeId: id }));
              transition = ch.transition;
            }
            break;
          }
          case 'leaveJoint':
            changes = [];
            break;
        }
        if (changes === undefined) break;
        const ccChanges = changes;
        attempt(() =>
          net.raft(target).proposeConfChange({ transition, changes: ccChanges, context: EMPTY_BYTES }),
        );
        break;
      }
    }
  }

  // Heal everything and require progress within a bounded number of ticks.
  net.faults = { ...NO_FAULTS };
  net.healPartitions();
  const start = net.stats.ticks;
  healAndCommit(net, livenessTicks);
  net.checker.checkLogsMatch();
  return { net, proposed, dropped, reads, healTicks: net.stats.ticks - start };
}

/**
 * With faults removed: restart every member of the current configuration,
 * stop nodes that were removed, leave a joint config if one was left pending,
 * and wait until a leader commits a fresh entry on every member.
 */
export function healAndCommit(net: Network, maxTicks: number): void {
  // Probes proposed so far; one applied on every member ends the wait. A
  // probe may be lost with a deposed leader, so a new one goes out regularly.
  const probes: { index: bigint; key: string }[] = [];
  let lastProbeTick = -1000;
  let probeSeq = 0;
  // Bring everyone back first; the current configuration then decides who stays.
  for (const sn of net.nodes.values()) if (!sn.alive) net.restart(sn.id);
  for (let t = 0; t < maxTicks; t++) {
    // A removed member shuts down only once no running member still counts it
    // in its configuration (it may still be needed to commit its own removal).
    const members = new Set<bigint>();
    for (const sn of net.liveNodes()) for (const id of Network.members(sn.confState)) members.add(id);
    for (const sn of net.nodes.values()) {
      if (members.has(sn.id) && !sn.alive) net.restart(sn.id);
      if (!members.has(sn.id) && members.size > 0 && sn.alive) net.crash(sn.id);
    }
    if (probes.some((p) => appliedEverywhere(net, p))) return;
    const l = net.leader();
    if (l && t - lastProbeTick >= 30) {
      const data = Buffer.from(`liveness-${probeSeq++}`);
      if (net.propose(l.id, data)) {
        probes.push({ index: l.node!.raft.raftLog.lastIndex(), key: `0:${data.toString('base64')}` });
        lastProbeTick = t;
      }
      // An explicit joint config would never be left on its own.
      const lcs = l.node!.raft.trk.confState();
      if (lcs.votersOutgoing.length > 0 && !lcs.autoLeave) {
        try {
          l.node!.proposeConfChange({
            transition: ConfChangeTransition.Auto,
            changes: [],
            context: EMPTY_BYTES,
          });
        } catch (e) {
          if (!(e instanceof ProposalDroppedError)) throw e;
        }
      }
    }
    net.tick();
  }
  const states = [...net.nodes.values()]
    .map((sn) => {
      const r = sn.node?.raft;
      return r
        ? `${sn.id}: state=${r.state} term=${r.term} lead=${r.lead} commit=${r.raftLog.committed} applied=${sn.appliedIndex} last=${r.raftLog.lastIndex()} cfg=${JSON.stringify(r.trk.confState(), (_, v) => (typeof v === 'bigint' ? Number(v) : v))}`
        : `${sn.id}: down`;
    })
    .join('\n');
  throw new Error(
    `liveness: no leader committed a new entry on all members within ${maxTicks} ticks after healing\n${states}`,
  );
}

function appliedEverywhere(net: Network, probe: { index: bigint; key: string }): boolean {
  const at = net.checker.appliedAt.get(probe.index);
  if (!at || at.key !== probe.key) return false;
  const members = Network.members(net.latestConfState());
  if (members.length === 0) return false;
  for (const id of members) {
    const sn = net.nodes.get(id);
    if (!sn || !sn.alive || sn.appliedIndex < probe.index) return false;
  }
  return true;
}
