import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Entry, EntryType } from '../../raft/src';
import { Engine, metaKey } from '../../storage/src';
import {
  DriverStoppedError,
  NoLeaderTimeoutError,
  RaftDriver,
  RaftDriverOptions,
  ReadTimeoutError,
} from './raft-driver';

const APPLIED_KEY = metaKey('test-applied');
const RECORD_PREFIX = 0x74; // 't'

/**
 * A small durable state machine: each applied entry's payload is recorded under its index,
 * with the applied index, in one engine write (as the server's Applier does).
 */
class Recorder {
  applied: bigint;
  /** Payloads applied by this instance, in order. */
  readonly seen: string[] = [];
  /** Simulates a crash between the log write and the apply write: applies are lost. */
  loseApplies = false;

  constructor(private readonly engine: Engine) {
    const raw = engine.get(APPLIED_KEY);
    this.applied = raw ? raw.readBigUInt64BE(0) : 0n;
  }

  apply(entries: Entry[]): void {
    if (this.loseApplies) return;
    const ops: { type: 'put'; key: Buffer; value: Buffer }[] = [];
    for (const e of entries) {
      if (e.index <= this.applied) throw new Error(`entry ${e.index} applied twice`);
      if (e.index !== this.applied + 1n && this.applied !== 0n) throw new Error(`gap before ${e.index}`);
      this.applied = e.index;
      if (e.type !== EntryType.Normal || e.data.length === 0) continue;
      const key = Buffer.alloc(9);
      key[0] = RECORD_PREFIX;
      key.writeBigUInt64BE(e.index, 1);
      ops.push({ type: 'put', key, value: Buffer.from(e.data) });
      this.seen.push(Buffer.from(e.data).toString());
    }
    const v = Buffer.alloc(8);
    v.writeBigUInt64BE(this.applied);
    ops.push({ type: 'put', key: APPLIED_KEY, value: v });
    this.engine.write(ops);
  }

  async all(): Promise<string[]> {
    const out: string[] = [];
    for await (const chunk of this.engine.scan(
      Buffer.from([RECORD_PREFIX]),
      Buffer.from([RECORD_PREFIX + 1]),
    )) {
      for (const [, v] of chunk) out.push(v.toString());
    }
    return out;
  }
}

describe('RaftDriver (a cluster of one)', () => {
  let dir: string;
  let engine: Engine;
  let driver: RaftDriver | undefined;
  let sm: Recorder;

  async function open(extra: Partial<RaftDriverOptions> = {}): Promise<RaftDriver> {
    engine = await Engine.open(dir);
    sm = new Recorder(engine);
    driver = await RaftDriver.open({
      id: 0xabcdef0123456789n,
      engine,
      bootstrapVoters: [0xabcdef0123456789n],
      applied: sm.applied,
      apply: (entries) => sm.apply(entries),
      heartbeatMs: 10,
      electionMs: 100,
      ...extra,
    });
    await driver.whenReady();
    return driver;
  }

  async function close(): Promise<void> {
    await driver?.stop();
    driver = undefined;
    await engine.close();
  }

  /** Resolves once the state machine has applied `n` payloads. */
  async function appliedCount(n: number): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (sm.seen.length < n) {
      if (Date.now() > deadline) throw new Error(`only ${sm.seen.length} of ${n} applied`);
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cairn-driver-'));
  });
  afterEach(async () => {
    if (driver) await close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('elects itself at once: term 2 on a fresh start, a new term after a restart', async () => {
    const d = await open();
    expect(d.isLeader).toBe(true);
    expect(d.leaderId).toBe(0xabcdef0123456789n);
    expect(d.term).toBe(2n);
    // Bootstrap snapshot at 1, the leader's empty entry at 2.
    expect(d.commitIndex).toBe(2n);
    expect(d.appliedIndex).toBe(2n);
    await close();
    const r = await open();
    // Usually term 3; a slow fsync can time the candidacy out once more (a new term each time).
    expect(r.term).toBeGreaterThanOrEqual(3n);
    expect(r.isLeader).toBe(true);
    expect(r.appliedIndex).toBe(r.commitIndex);
    expect(r.appliedIndex).toBeGreaterThanOrEqual(3n);
  });

  it('applies many concurrent proposals exactly once, in proposal order', async () => {
    const d = await open();
    let syncs = 0;
    const sync = engine.sync.bind(engine);
    engine.sync = () => (syncs++, sync());
    const n = 2000;
    const payloads = Array.from({ length: n }, (_, i) => `p${i}`);
    // Spread over several event-loop turns so batches overlap the fsync of earlier ones.
    const accepted: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      accepted.push(d.propose(Buffer.from(payloads[i])));
      if (i % 97 === 0) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(accepted);
    await appliedCount(n);
    expect(sm.seen).toEqual(payloads);
    expect(await sm.all()).toEqual(payloads);
    // Group commit: one fsync per batch, not per proposal.
    expect(syncs).toBeGreaterThan(0);
    expect(syncs).toBeLessThan(n / 20);
    expect(d.appliedIndex).toBe(d.commitIndex);
    expect(d.lastIndex).toBe(d.commitIndex);
  });

  it('applies entries committed but not applied before a restart, and nothing twice', async () => {
    const d = await open();
    for (let i = 0; i < 50; i++) void d.propose(Buffer.from(`a${i}`));
    await appliedCount(50);
    // From here, apply writes are lost, as in a crash after the log's fsync.
    sm.loseApplies = true;
    await Promise.all(Array.from({ length: 30 }, (_, i) => d.propose(Buffer.from(`b${i}`))));
    const deadline = Date.now() + 5000;
    while (d.appliedIndex < d.lastIndex && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    const committed = d.commitIndex;
    await close();

    await open();
    expect(sm.applied).toBeGreaterThanOrEqual(committed);
    const expected = [
      ...Array.from({ length: 50 }, (_, i) => `a${i}`),
      ...Array.from({ length: 30 }, (_, i) => `b${i}`),
    ];
    expect(sm.seen).toEqual(expected.slice(50)); // the replay: only what was lost
    expect(await sm.all()).toEqual(expected);
    await close();

    // A further restart replays nothing.
    await open();
    expect(sm.seen).toEqual([]);
    expect(await sm.all()).toEqual(expected);
  });

  it('keeps working across log compaction and restarts', async () => {
    await open({ snapshotEntries: 100 });
    await Promise.all(Array.from({ length: 450 }, (_, i) => driver!.propose(Buffer.from(`c${i}`))));
    await appliedCount(450);
    await close();
    const d = await open();
    expect(d.appliedIndex).toBeGreaterThan(450n);
    await Promise.all(Array.from({ length: 10 }, (_, i) => d.propose(Buffer.from(`d${i}`))));
    await appliedCount(10);
    expect((await sm.all()).length).toBe(460);
  });

  it('readIndex covers every write applied before the read, and resolves once its index is applied', async () => {
    const d = await open();
    for (let round = 0; round < 5; round++) {
      const acked = sm.seen.length + 100;
      for (let i = 0; i < 100; i++) void d.propose(Buffer.from(`r${round}.${i}`));
      await appliedCount(acked);
      const ackedIndex = d.appliedIndex;
      // Reads issued together with more writes: they need not see those, but must see the acked ones.
      for (let i = 0; i < 100; i++) void d.propose(Buffer.from(`r${round}.late${i}`));
      const reads = Array.from({ length: 20 }, () =>
        d.readIndex().then((index) => ({ index, applied: d.appliedIndex })),
      );
      const answers = await Promise.all(reads);
      // One read-index round served the whole turn.
      expect(new Set(answers.map((a) => a.index)).size).toBe(1);
      expect(answers[0].index).toBeGreaterThanOrEqual(ackedIndex);
      for (const a of answers) expect(a.applied).toBeGreaterThanOrEqual(a.index);
      await appliedCount(acked + 100);
    }
  });

  it('fails pending and new requests once stopped', async () => {
    const d = await open();
    const p = d.propose(Buffer.from('late'));
    const stopping = d.stop();
    await expect(p).rejects.toBeInstanceOf(DriverStoppedError);
    await stopping;
    await expect(d.propose(Buffer.from('x'))).rejects.toBeInstanceOf(DriverStoppedError);
    await expect(d.readIndex()).rejects.toBeInstanceOf(DriverStoppedError);
  });

  it('fails everything and reports once when persisting fails', async () => {
    let reported = 0;
    const d = await open({ onFailure: () => reported++ });
    engine.sync = () => Promise.reject(new Error('disk on fire'));
    const p = d.propose(Buffer.from('x'));
    await p; // accepted by Raft; its persistence fails afterwards
    await expect(d.readIndex()).rejects.toBeInstanceOf(DriverStoppedError);
    expect(reported).toBe(1);
    await expect(d.propose(Buffer.from('y'))).rejects.toThrow(/disk on fire/);
    expect(sm.seen).toEqual([]);
  });

  it('holds proposals and reads while no leader is known, then fails them at the request timeout', async () => {
    // One of two voters, the other never answers: no leader, ever.
    engine = await Engine.open(dir);
    sm = new Recorder(engine);
    const d = await RaftDriver.open({
      id: 1n,
      engine,
      bootstrapVoters: [1n, 2n],
      applied: sm.applied,
      apply: (entries) => sm.apply(entries),
      send: () => undefined,
      heartbeatMs: 10,
      electionMs: 100,
      readTimeoutMs: 300,
    });
    driver = d;
    let settled = false;
    const write = d.propose(Buffer.from('never')).finally(() => (settled = true));
    const read = d.readIndex();
    await new Promise((r) => setTimeout(r, 150));
    // Still waiting for a leader, not dropped at once.
    expect(settled).toBe(false);
    await expect(write).rejects.toBeInstanceOf(NoLeaderTimeoutError);
    await expect(read).rejects.toBeInstanceOf(ReadTimeoutError);
    expect(sm.seen).toEqual([]);
  });
});
