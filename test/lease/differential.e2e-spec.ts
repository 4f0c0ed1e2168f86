// Differential test for leases: the same Lease and KV requests go to a real etcd 3.4 and to Cairn,
// and every answer must agree field by field, up to what differs by design: member and cluster
// ids, the ids each server generates for grants that name none (compared by order of
// appearance), a remaining TTL read a moment apart (within a second), and the order of sets
// (attached keys, listed leases: etcd's come from a Go map or expiry order).
import * as fc from 'fast-check';
import { LeaseApi, connectLease } from '../support/lease-api';
import { MemberProcess, startMember } from '../support/members';

jest.setTimeout(300_000);

const MAX_INT64 = '9223372036854775807';

type Op =
  | { op: 'grant'; ID: string; TTL: string }
  | { op: 'revoke'; ID: string }
  | { op: 'put'; key: string; lease: string; ignore_lease: boolean }
  | { op: 'txnPut'; key: string; lease: string }
  | { op: 'delete'; key: string }
  | { op: 'timeToLive'; ID: string; keys: boolean }
  | { op: 'leases' }
  | { op: 'keepAlive'; IDs: string[] }
  | { op: 'range' };

/** A lease id as a test names it: a literal client id, or `gen:n`, the n-th id a server generated. */
const chosenId = fc.constantFrom('1', '2', '-3', MAX_INT64, '777');
const generatedRef = fc.integer({ min: 0, max: 3 }).map((n) => `gen:${n}`);
const anyId = fc.oneof(chosenId, generatedRef, fc.constant('0'));
const key = fc.constantFrom('a', 'b', 'c', 'd');
// TTLs long enough that nothing expires during a run (expiry moments differ between servers).
const ttl = fc.constantFrom('10', '60', '3600', '9000000000', '9000000001');

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('grant' as const),
      ID: fc.oneof(chosenId, fc.constant('0')),
      TTL: ttl,
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('revoke' as const), ID: anyId }) },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('put' as const),
      key,
      lease: fc.oneof(anyId, fc.constant('0')),
      ignore_lease: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('txnPut' as const), key, lease: anyId }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), key }) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('timeToLive' as const), ID: anyId, keys: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('leases' as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('keepAlive' as const), IDs: fc.array(anyId, { maxLength: 3 }) }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('range' as const) }) },
);

/** One server under test, with the ids it generated, in order. */
class Side {
  readonly generated: string[] = [];
  constructor(readonly api: LeaseApi) {}

  resolve(id: string): string {
    if (!id.startsWith('gen:')) return id;
    return this.generated[Number(id.slice(4))] ?? '12345';
  }

  /** Replaces every generated id in a value by its alias. */
  alias(v: unknown): unknown {
    if (typeof v === 'string') {
      const i = this.generated.indexOf(v);
      return i >= 0 ? `gen:${i}` : v;
    }
    if (Buffer.isBuffer(v)) return v.toString('latin1');
    if (Array.isArray(v)) return v.map((x) => this.alias(x));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (k === 'cluster_id' || k === 'member_id') continue;
        out[k] = this.alias(x);
      }
      return out;
    }
    return v;
  }

  async run(o: Op): Promise<any> {
    const api = this.api;
    const b = (s: string) => Buffer.from(s);
    switch (o.op) {
      case 'grant': {
        const res = await api.grant({ ID: o.ID, TTL: o.TTL });
        if (o.ID === '0') this.generated.push(res.ID);
        return res;
      }
      case 'revoke':
        return api.revoke({ ID: this.resolve(o.ID) });
      case 'put':
        return api.put({
          key: b(o.key),
          value: b('v'),
          lease: this.resolve(o.lease),
          ignore_lease: o.ignore_lease,
        });
      case 'txnPut':
        return api.txn({
          success: [{ request_put: { key: b(o.key), value: b('t'), lease: this.resolve(o.lease) } }],
        });
      case 'delete':
        return api.deleteRange({ key: b(o.key) });
      case 'timeToLive': {
        const res = await api.timeToLive({ ID: this.resolve(o.ID), keys: o.keys });
        res.keys = res.keys.map(String).sort();
        return res;
      }
      case 'leases': {
        const res = await api.leases();
        // Sorted by alias, not raw id: the two servers generate different ids.
        res.leases = res.leases.map((l: any) => this.alias(l.ID)).sort();
        return res;
      }
      case 'keepAlive':
        return api.keepAlive(o.IDs.map((id) => this.resolve(id)));
      case 'range':
        return api.range({ key: b('\0'), range_end: b('\0') });
    }
  }

  async settle(o: Op): Promise<unknown> {
    try {
      return { ok: this.alias(await this.run(o)) };
    } catch (err) {
      const e = err as { code: number; details: string };
      return { error: { code: e.code, details: e.details } };
    }
  }

  /** Revokes every lease and deletes every key (the same requests on both servers). */
  async reset(): Promise<void> {
    const { leases } = await this.api.leases();
    const ids = leases.map((l: any) => l.ID).sort();
    for (const ID of ids) await this.api.revoke({ ID });
    await this.api.deleteRange({ key: Buffer.from('\0'), range_end: Buffer.from('\0') });
    this.generated.length = 0;
  }
}

/** A remaining TTL read a moment apart may differ by a second: equalize it when it does. */
function alignRemaining(o: Op, c: any, e: any): void {
  if (o.op !== 'timeToLive' || !c.ok || !e.ok) return;
  const [ct, et] = [Number(c.ok.TTL), Number(e.ok.TTL)];
  // Only live leases (TTL > 0) count down; -1 (unknown) must match exactly.
  if (ct > 0 && et > 0 && Math.abs(ct - et) <= 1) c.ok.TTL = e.ok.TTL;
}

let cairnMember: MemberProcess;
let etcdMember: MemberProcess;
let cairn: Side;
let etcd: Side;

beforeAll(async () => {
  const started = await Promise.allSettled([startMember('cairn'), startMember('etcd')]);
  if (started[0].status === 'fulfilled') cairnMember = started[0].value;
  if (started[1].status === 'fulfilled') etcdMember = started[1].value;
  for (const s of started) if (s.status === 'rejected') throw s.reason;
  cairn = new Side(connectLease(cairnMember.endpoint));
  etcd = new Side(connectLease(etcdMember.endpoint));
});

afterAll(async () => {
  cairn?.api.close();
  etcd?.api.close();
  await Promise.all([cairnMember?.stop(), etcdMember?.stop()]);
});

async function same(o: Op): Promise<unknown> {
  const [c, e] = await Promise.all([cairn.settle(o), etcd.settle(o)]);
  alignRemaining(o, c, e);
  expect({ op: o, ...(c as object) }).toEqual({ op: o, ...(e as object) });
  return c;
}

describe('lease semantics vs etcd 3.4', () => {
  it('answers a scripted session identically', async () => {
    const script: Op[] = [
      { op: 'grant', ID: '0', TTL: '60' },
      { op: 'grant', ID: '1', TTL: '0' },
      { op: 'grant', ID: '2', TTL: '-5' },
      { op: 'grant', ID: '-3', TTL: '3600' },
      { op: 'grant', ID: MAX_INT64, TTL: '9000000000' },
      { op: 'grant', ID: '777', TTL: '9000000001' },
      { op: 'grant', ID: '-3', TTL: '10' },
      { op: 'revoke', ID: '1' },
      { op: 'revoke', ID: '2' },
      { op: 'put', key: 'a', lease: 'gen:0', ignore_lease: false },
      { op: 'put', key: 'b', lease: 'gen:0', ignore_lease: false },
      { op: 'put', key: 'c', lease: MAX_INT64, ignore_lease: false },
      { op: 'put', key: 'c', lease: '0', ignore_lease: true },
      { op: 'put', key: 'd', lease: '777', ignore_lease: false },
      { op: 'put', key: 'd', lease: MAX_INT64, ignore_lease: true },
      { op: 'txnPut', key: 'd', lease: '-3' },
      { op: 'txnPut', key: 'a', lease: '777' },
      { op: 'timeToLive', ID: 'gen:0', keys: true },
      { op: 'timeToLive', ID: MAX_INT64, keys: true },
      { op: 'timeToLive', ID: '-3', keys: false },
      { op: 'timeToLive', ID: '777', keys: true },
      { op: 'timeToLive', ID: '0', keys: true },
      { op: 'leases' },
      { op: 'keepAlive', IDs: ['gen:0', '777', '0', '-3', MAX_INT64] },
      { op: 'range' },
      { op: 'revoke', ID: 'gen:0' },
      { op: 'range' },
      { op: 'revoke', ID: 'gen:0' },
      { op: 'revoke', ID: '0' },
      { op: 'delete', key: 'c' },
      { op: 'timeToLive', ID: MAX_INT64, keys: true },
      { op: 'leases' },
    ];
    for (const o of script) await same(o);
    // The generated id is a positive int64 on both.
    expect(BigInt(cairn.generated[0])).toBeGreaterThan(0n);
    await Promise.all([cairn.reset(), etcd.reset()]);
  });

  it('answers random sessions identically', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 25 }), async (ops) => {
        try {
          for (const o of ops) await same(o);
        } finally {
          await Promise.all([cairn.reset(), etcd.reset()]);
        }
      }),
      { numRuns: 40 },
    );
  });
});
