// Micro-benchmark of libs/raft: a 3-node cluster in one process with no I/O
// (MemoryStorage, in-memory message passing). Reports committed proposals per
// second for several batch sizes, and the cost of one message step.
//
//   npm run build && npm run bench:raft            (or: node dist/libs/raft/bench/raft-bench.js [--json])
import { decodeMessage, encodeMessage } from '../src/codec';
import { RaftNode, bootstrapStorage } from '../src/node';
import { MemoryStorage } from '../src/storage';
import { Message, StateType } from '../src/types';

interface Member {
  node: RaftNode;
  storage: MemoryStorage;
  applied: bigint;
}

class Cluster {
  readonly members = new Map<bigint, Member>();
  private queue: Message[] = [];
  steps = 0;
  stepNanos = 0n;

  constructor(
    size: number,
    private readonly codec: boolean,
  ) {
    const ids = Array.from({ length: size }, (_, i) => BigInt(i + 1));
    for (const id of ids) {
      const storage = new MemoryStorage();
      bootstrapStorage(storage, ids);
      const node = new RaftNode({
        id,
        electionTick: 10,
        heartbeatTick: 1,
        storage,
        maxSizePerMsg: 1024 * 1024,
        maxInflightMsgs: 256,
        seed: Number(id),
      });
      this.members.set(id, { node, storage, applied: 1n });
    }
  }

  /** Handles Readies and delivers messages until nothing moves. */
  drain(): void {
    for (;;) {
      let moved = false;
      for (const m of this.members.values()) {
        while (m.node.hasReady()) {
          moved = true;
          const rd = m.node.ready();
          for (const msg of rd.messages) this.queue.push(msg);
          if (rd.snapshot) m.storage.applySnapshot(rd.snapshot);
          if (rd.entries.length > 0) m.storage.append(rd.entries);
          if (rd.hardState) m.storage.setHardState(rd.hardState);
          for (const msg of rd.messagesAfterPersist) this.queue.push(msg);
          if (rd.committedEntries.length > 0)
            m.applied = rd.committedEntries[rd.committedEntries.length - 1].index;
          m.node.advance();
        }
      }
      if (this.queue.length === 0 && !moved) return;
      const batch = this.queue;
      this.queue = [];
      for (const msg of batch) {
        const to = this.members.get(msg.to)!;
        const m = this.codec ? decodeMessage(encodeMessage(msg)) : msg;
        const t0 = process.hrtime.bigint();
        to.node.step(m);
        this.stepNanos += process.hrtime.bigint() - t0;
        this.steps++;
      }
    }
  }

  leader(): Member {
    for (const m of this.members.values()) if (m.node.raft.state === StateType.Leader) return m;
    throw new Error('no leader');
  }

  elect(): Member {
    this.members.get(1n)!.node.campaign();
    this.drain();
    return this.leader();
  }

  /** Keeps the logs short, as a driver would after snapshotting. */
  compact(): void {
    for (const m of this.members.values()) {
      const keep = m.applied - 1000n;
      if (keep > m.storage.firstIndex()) m.storage.compact(keep);
    }
  }
}

interface Result {
  name: string;
  proposalsPerSec: number;
  nsPerStep: number;
  stepsPerProposal: number;
}

function runProposals(batch: number, total: number, payload: number, codec: boolean): Result {
  const c = new Cluster(3, codec);
  const leader = c.elect();
  const data = new Uint8Array(payload).fill(7);
  const datas = Array.from({ length: batch }, () => data);
  c.steps = 0;
  c.stepNanos = 0n;
  const target = leader.applied + BigInt(total);
  const start = process.hrtime.bigint();
  let proposed = 0;
  while (proposed < total) {
    if (batch === 1) leader.node.propose(data);
    else leader.node.proposeBatch(datas);
    proposed += batch;
    c.drain();
    if (proposed % 65536 < batch) c.compact();
  }
  c.drain();
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  for (const m of c.members.values()) {
    if (m.applied < target) throw new Error(`node applied ${m.applied} < ${target}`);
  }
  return {
    name: `propose batch=${batch} payload=${payload}B${codec ? ' +codec' : ''}`,
    proposalsPerSec: Math.round(total / elapsed),
    nsPerStep: Math.round(Number(c.stepNanos) / Math.max(1, c.steps)),
    stepsPerProposal: Math.round((c.steps / total) * 1000) / 1000,
  };
}

/** Cost of the hottest steps in isolation: heartbeat round trips on an idle leader. */
function runHeartbeats(rounds: number): Result {
  const c = new Cluster(3, false);
  const leader = c.elect();
  c.steps = 0;
  c.stepNanos = 0n;
  const start = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) {
    leader.node.tick();
    c.drain();
  }
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  return {
    name: 'heartbeat rounds (tick + 4 steps)',
    proposalsPerSec: Math.round(rounds / elapsed),
    nsPerStep: Math.round(Number(c.stepNanos) / Math.max(1, c.steps)),
    stepsPerProposal: Math.round((c.steps / rounds) * 1000) / 1000,
  };
}

function main(): void {
  const json = process.argv.includes('--json');
  const quick = process.argv.includes('--quick');
  const scale = quick ? 0.1 : 1;
  const n = (x: number) => Math.max(1000, Math.round(x * scale));
  // Warm up the JIT.
  runProposals(64, 20_000, 128, false);
  const results: Result[] = [
    runProposals(1, n(50_000), 128, false),
    runProposals(16, n(200_000), 128, false),
    runProposals(256, n(1_000_000), 128, false),
    runProposals(256, n(200_000), 128, true),
    runHeartbeats(n(100_000)),
  ];
  if (json) {
    process.stdout.write(JSON.stringify({ bench: 'raft', node: process.version, results }) + '\n');
    return;
  }
  process.stdout.write(`libs/raft micro-benchmark (3 nodes, in-memory, node ${process.version})\n`);
  process.stdout.write(
    `${'scenario'.padEnd(40)} ${'ops/s'.padStart(12)} ${'ns/step'.padStart(10)} ${'steps/op'.padStart(10)}\n`,
  );
  for (const r of results) {
    process.stdout.write(
      `${r.name.padEnd(40)} ${r.proposalsPerSec.toLocaleString('en-US').padStart(12)} ${String(r.nsPerStep).padStart(10)} ${String(r.stepsPerProposal).padStart(10)}\n`,
    );
  }
  process.stdout.write(
    'ops/s: committed proposals per second on all 3 nodes (heartbeats: rounds per second).\n',
  );
  process.stdout.write('ns/step: mean time of one RaftNode.step() on a received message.\n');
}

if (require.main === module) main();
