// Crash durability of a single Cairn member: every write the member acknowledged must survive
// kill -9 with the revision it was acknowledged at, revisions must stay gap-free and never be
// reused, and the member must keep serving after each restart.
import { EtcdApi, connect } from '../support/etcd-api';
import { MemberProcess, startMember } from '../support/members';

jest.setTimeout(60_000);

const WRITERS = 16;
const ALL = { key: Buffer.from([0]), range_end: Buffer.from([0]) };
const OUT_OF_RANGE = 11;

/** One acknowledged write: the keys it created (each written once) and its revision. */
interface Ack {
  id: string;
  keys: Record<string, string>;
  revision: number;
}

/**
 * Every write creates fresh keys (no overwrites, no deletes), so in the final keyspace each
 * revision 2..current must be carried by exactly one write's keys: a plain put (one key) or a
 * txn (two keys `<id>/a`, `<id>/b`). That makes lost, duplicated and reused revisions visible.
 */
class Load {
  readonly acks: Ack[] = [];
  failure: unknown;
  private stopped = false;
  private seq = 0;

  constructor(
    private readonly api: EtcdApi,
    private readonly tag: string,
  ) {}

  /** Runs the writers until stop() or until their member goes away. */
  run(): Promise<void> {
    return Promise.all(Array.from({ length: WRITERS }, (_, w) => this.writer(w))).then(() => undefined);
  }

  stop(): void {
    this.stopped = true;
  }

  private async writer(w: number): Promise<void> {
    while (!this.stopped) {
      const n = this.seq++;
      const id = `${this.tag}/w${w}/${n}`;
      try {
        if (n % 3 === 0) {
          // An atomic pair guarded by "not created yet": succeeds exactly once.
          const value = `txn-${id}`;
          const res = await this.api.kv.Txn({
            compare: [{ key: Buffer.from(`${id}/a`), result: 'EQUAL', target: 'CREATE', create_revision: 0 }],
            success: [
              { request_put: { key: Buffer.from(`${id}/a`), value: Buffer.from(value) } },
              { request_put: { key: Buffer.from(`${id}/b`), value: Buffer.from(value) } },
            ],
          });
          if (!res.succeeded) throw new Error(`txn ${id} did not succeed`);
          this.acks.push({
            id,
            keys: { [`${id}/a`]: value, [`${id}/b`]: value },
            revision: +res.header.revision,
          });
        } else {
          const value = `put-${id}`;
          const res = await this.api.kv.Put({ key: Buffer.from(id), value: Buffer.from(value) });
          this.acks.push({ id, keys: { [id]: value }, revision: +res.header.revision });
        }
      } catch (err) {
        // Unacknowledged: the write may or may not have landed. Only expected once the member dies.
        if (!this.stopped) this.failure = err;
        this.stopped = true;
        return;
      }
    }
  }
}

async function waitFor(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 20));
}

/** Checks the whole keyspace against the acknowledged writes; returns the current revision. */
async function verify(api: EtcdApi, acks: Ack[]): Promise<number> {
  const res = await api.kv.Range(ALL);
  const current = +res.header.revision;
  const byKey = new Map<string, { value: string; mod: number; create: number; version: number }>();
  const byRev = new Map<number, string[]>();
  for (const kv of res.kvs) {
    const key = kv.key.toString();
    const mod = +kv.mod_revision;
    byKey.set(key, { value: kv.value.toString(), mod, create: +kv.create_revision, version: +kv.version });
    byRev.set(mod, [...(byRev.get(mod) ?? []), key]);
  }

  // Each acknowledged write is there, once, at the revision it was acknowledged with.
  const missing: string[] = [];
  for (const ack of acks) {
    for (const [key, value] of Object.entries(ack.keys)) {
      const got = byKey.get(key);
      if (
        !got ||
        got.value !== value ||
        got.mod !== ack.revision ||
        got.create !== ack.revision ||
        got.version !== 1
      )
        missing.push(`${key}@${ack.revision}: ${JSON.stringify(got)}`);
    }
  }
  expect(missing).toEqual([]);

  // No two acknowledged writes share a revision.
  const ackRevs = new Map<number, string>();
  const reused: string[] = [];
  for (const ack of acks) {
    const other = ackRevs.get(ack.revision);
    if (other !== undefined) reused.push(`${ack.revision}: ${other} and ${ack.id}`);
    ackRevs.set(ack.revision, ack.id);
  }
  expect(reused).toEqual([]);

  // Revisions 2..current are each carried by exactly one write (store starts at revision 1).
  const holes: number[] = [];
  const mixed: string[] = [];
  for (let r = 2; r <= current; r++) {
    const keys = byRev.get(r);
    if (!keys) {
      holes.push(r);
      continue;
    }
    const ids = new Set(keys.map((k) => k.replace(/\/[ab]$/, '')));
    const shapeOk = keys.length === 1 ? !/\/[ab]$/.test(keys[0]) : keys.length === 2 && ids.size === 1;
    if (!shapeOk) mixed.push(`${r}: ${keys.join(',')}`);
  }
  expect({ holes, mixed }).toEqual({ holes: [], mixed: [] });
  expect(Math.max(...byRev.keys())).toBe(current);

  // Every acknowledged revision is at most the current one: nothing acknowledged was rolled back.
  expect(Math.max(1, ...acks.map((a) => a.revision))).toBeLessThanOrEqual(current);
  return current;
}

describe('durability of a single member', () => {
  let member: MemberProcess | undefined;

  afterEach(async () => {
    await member?.stop();
    member = undefined;
  });

  it('keeps every acknowledged write across repeated kill -9 under a 16-writer load', async () => {
    member = await startMember('cairn');
    const acks: Ack[] = [];
    let lastRevision = 1;
    for (let cycle = 0; cycle < 4; cycle++) {
      const api = connect(member.endpoint);
      const load = new Load(api, `c${cycle}`);
      const running = load.run();
      // Kill while all writers have requests in flight.
      await waitFor(() => load.acks.length >= 400 || load.failure !== undefined);
      expect(load.failure).toBeUndefined();
      load.stop();
      await member.kill('SIGKILL');
      await running;
      api.close();
      expect(load.acks.length).toBeGreaterThanOrEqual(400);
      // Writes acknowledged after the restart continue above everything acknowledged before.
      expect(Math.min(...load.acks.map((a) => a.revision))).toBeGreaterThan(lastRevision);
      acks.push(...load.acks);

      member = await member.restart();
      const after = connect(member.endpoint);
      try {
        lastRevision = await verify(after, acks);
      } finally {
        after.close();
      }
    }

    // Still serving writes after the last restart, at the next revision.
    const api = connect(member.endpoint);
    try {
      const res = await api.kv.Put({ key: Buffer.from('after/last'), value: Buffer.from('x') });
      expect(+res.header.revision).toBe(lastRevision + 1);
      const got = await api.kv.Range({ key: Buffer.from('after/last') });
      expect(got.kvs.map((kv: any) => kv.value.toString())).toEqual(['x']);
    } finally {
      api.close();
    }
  });

  it('keeps everything after a graceful SIGTERM in the middle of a load, exiting 0', async () => {
    member = await startMember('cairn');
    const api = connect(member.endpoint);
    const load = new Load(api, 'term');
    const running = load.run();
    await waitFor(() => load.acks.length >= 300 || load.failure !== undefined);
    expect(load.failure).toBeUndefined();
    load.stop();
    await member.kill('SIGTERM');
    await running;
    api.close();
    expect(member.child.exitCode).toBe(0);

    member = await member.restart();
    const after = connect(member.endpoint);
    try {
      const current = await verify(after, load.acks);
      const res = await after.kv.Put({ key: Buffer.from('term/after'), value: Buffer.from('x') });
      expect(+res.header.revision).toBe(current + 1);
    } finally {
      after.close();
    }
  });

  it('a compaction survives kill -9: reads below it are refused, at and after it are correct', async () => {
    member = await startMember('cairn');
    let api = connect(member.endpoint);
    const revs: number[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await api.kv.Put({ key: Buffer.from('k'), value: Buffer.from(`v${i}`) });
      revs.push(+res.header.revision);
      await api.kv.Put({ key: Buffer.from(`other/${i}`), value: Buffer.from(`o${i}`) });
    }
    const compactAt = revs[5];
    await api.kv.Compact({ revision: compactAt });
    // Acknowledged but not necessarily physically done: the kill may land mid-compaction.
    await member.kill('SIGKILL');
    api.close();

    member = await member.restart();
    api = connect(member.endpoint);
    try {
      const refused = await api.kv.Range({ key: Buffer.from('k'), revision: revs[4] }).catch((e) => e);
      expect({ code: refused.code, details: refused.details }).toEqual({
        code: OUT_OF_RANGE,
        details: 'etcdserver: mvcc: required revision has been compacted',
      });
      const again = await api.kv.Compact({ revision: revs[3] }).catch((e) => e);
      expect(again.details).toBe('etcdserver: mvcc: required revision has been compacted');

      for (let i = 5; i < 10; i++) {
        const res = await api.kv.Range({ key: Buffer.from('k'), revision: revs[i] });
        expect(res.kvs.map((kv: any) => [kv.value.toString(), +kv.mod_revision, +kv.version])).toEqual([
          [`v${i}`, revs[i], i + 1],
        ]);
      }
      // At the compaction point every key keeps the value it had then.
      const at = await api.kv.Range({
        key: Buffer.from('other/'),
        range_end: Buffer.from('other0'),
        revision: compactAt,
      });
      expect(at.kvs.map((kv: any) => kv.value.toString())).toEqual(['o0', 'o1', 'o2', 'o3', 'o4']);
      const now = await api.kv.Range({ key: Buffer.from('other/'), range_end: Buffer.from('other0') });
      expect(now.kvs.length).toBe(10);
      expect(+now.header.revision).toBe(revs[9] + 1);

      // A further compaction and writes still work.
      await api.kv.Compact({ revision: revs[9], physical: true });
      const put = await api.kv.Put({ key: Buffer.from('k'), value: Buffer.from('after') });
      expect(+put.header.revision).toBe(revs[9] + 2);
      const below = await api.kv.Range({ key: Buffer.from('k'), revision: revs[8] }).catch((e) => e);
      expect(below.code).toBe(OUT_OF_RANGE);
    } finally {
      api.close();
    }
  });
});
