// etcdctl 3.4 against a spawned Cairn member. Every command also runs against a real etcd 3.4
// started with the same flags and the same history, and exit code, stdout and error lines must be
// identical once ids and endpoints are normalized (parity); key fields are also checked on their
// own, so a shared mistake in both would still show.
import { connect, settle } from '../support/etcd-api';
import { MemberProcess, startMember } from '../support/members';
import { CtlResult, etcdctl, jsonIds, normalize, parseJson, unb64 } from './ctl';

jest.setTimeout(60_000);

let cairn: MemberProcess;
let etcd: MemberProcess;

beforeAll(async () => {
  // Start both even if one fails, so afterAll can stop whichever did start.
  const started = await Promise.allSettled([startMember('cairn'), startMember('etcd')]);
  if (started[0].status === 'fulfilled') cairn = started[0].value;
  if (started[1].status === 'fulfilled') etcd = started[1].value;
  for (const s of started) if (s.status === 'rejected') throw s.reason;
});

afterAll(async () => {
  await Promise.all([cairn?.stop(), etcd?.stop()]);
});

/** Runs the same etcdctl command on both members, asserts parity and returns Cairn's raw result. */
async function both(args: string[], input?: string): Promise<CtlResult> {
  const [c, e] = await Promise.all([
    etcdctl(cairn.endpoint, args, input),
    etcdctl(etcd.endpoint, args, input),
  ]);
  expect({ args, ...normalize(c, cairn.endpoint) }).toEqual({ args, ...normalize(e, etcd.endpoint) });
  return c;
}

/** `both` with `-w json`, expecting success; returns Cairn's parsed answer. */
async function json(args: string[], input?: string): Promise<any> {
  const r = await both([...args, '-w', 'json'], input);
  expect(r.code).toBe(0);
  return parseJson(r.stdout);
}

/** `both`, expecting a failure whose last line is `Error: <message>`. */
async function fails(args: string[], message: string, input?: string): Promise<void> {
  const r = await both(args, input);
  expect(r.code).not.toBe(0);
  expect(r.stderr.trim().split('\n').pop()).toBe(`Error: ${message}`);
}

const keysOf = (res: any) => (res.kvs ?? []).map((kv: any) => unb64(kv.key));
const valuesOf = (res: any) => (res.kvs ?? []).map((kv: any) => unb64(kv.value));

async function currentRevision(): Promise<number> {
  return Number((await json(['get', 'no-such-key'])).header.revision);
}

describe('a fresh member', () => {
  it('reports the entries its leader committed, as etcd does (raft index > 0 at term >= 2)', async () => {
    // Runs first, before any write: a Raft leader appends an empty entry when elected, so a leader
    // at term 2 has a non-zero last and applied index (etcd also has its bootstrap entries).
    const [c, e] = await Promise.all([
      etcdctl(cairn.endpoint, ['endpoint', 'status', '-w', 'json']),
      etcdctl(etcd.endpoint, ['endpoint', 'status', '-w', 'json']),
    ]);
    const cs = parseJson(c.stdout)[0].Status;
    const es = parseJson(e.stdout)[0].Status;
    expect(Number(es.raftTerm)).toBeGreaterThanOrEqual(2);
    expect(Number(es.raftIndex)).toBeGreaterThan(0);
    expect(cs.raftTerm).toBe(es.raftTerm);
    expect(cs.raftAppliedIndex).toBe(cs.raftIndex);
    expect(Number(cs.raftIndex ?? 0)).toBeGreaterThan(0);
  });
});

describe('put', () => {
  it('prints OK, and -w json carries the new revision', async () => {
    const ok = await both(['put', 'p/a', 'one']);
    expect(ok).toMatchObject({ code: 0, stdout: 'OK\n' });
    const res = await json(['put', 'p/b', 'two']);
    // A fresh store is at revision 1 (as etcd): the first put made 2, this one 3.
    expect(res.header.revision).toBe(3);
    expect(res.prev_kv).toBeUndefined();
  });

  it('--prev-kv returns the replaced key-value', async () => {
    const res = await json(['put', 'p/a', 'uno', '--prev-kv']);
    expect(unb64(res.prev_kv.key)).toBe('p/a');
    expect(unb64(res.prev_kv.value)).toBe('one');
    expect(res.prev_kv.version).toBe(1);
    // The simple format prints the previous pair after OK.
    const simple = await both(['put', 'p/a', 'eins', '--prev-kv']);
    expect(simple.stdout).toBe('OK\np/a\nuno\n');
  });

  it('--ignore-value keeps the value and bumps version and mod revision', async () => {
    const before = await json(['get', 'p/a']);
    const res = await json(['put', 'p/a', '--ignore-value']);
    const after = await json(['get', 'p/a']);
    expect(valuesOf(after)).toEqual(['eins']);
    expect(after.kvs[0].version).toBe(before.kvs[0].version + 1);
    expect(after.kvs[0].mod_revision).toBe(res.header.revision);
  });

  it('--ignore-lease on a key without lease keeps it leaseless and sets the value', async () => {
    await both(['put', 'p/b', 'zwei', '--ignore-lease']);
    const res = await json(['get', 'p/b']);
    expect(valuesOf(res)).toEqual(['zwei']);
    expect(res.kvs[0].lease).toBeUndefined();
  });

  it('--ignore-value / --ignore-lease on a missing key fail with "key not found" and write nothing', async () => {
    const rev = await currentRevision();
    await fails(['put', 'p/missing', '--ignore-value'], 'etcdserver: key not found');
    await fails(['put', 'p/missing', 'x', '--ignore-lease'], 'etcdserver: key not found');
    expect(await currentRevision()).toBe(rev);
    expect((await both(['get', 'p/missing'])).stdout).toBe('');
  });

  it('client-side argument errors are identical', async () => {
    await fails(
      ['put', 'p/a', 'x', '--ignore-value'],
      "put command needs only 1 argument when 'ignore-value' is set",
    );
    await both(['put']);
  });

  it('refuses an empty key, a missing lease and an oversized value', async () => {
    await fails(['put', '', 'x'], 'etcdserver: key is not provided');
    await fails(['put', 'p/l', 'x', '--lease', '1234'], 'etcdserver: requested lease not found');
    // Over the default --max-request-bytes (1.5 MiB) but under gRPC's limit: refused by the server.
    await fails(['put', 'p/big'], 'etcdserver: request is too large', 'v'.repeat(1_800_000));
  });

  it('UTF-8 and long keys and values round-trip byte for byte', async () => {
    await both(['put', 'p/ключ é', 'värde ☃']);
    const res = await json(['get', 'p/ключ é']);
    expect([unb64(res.kvs[0].key), unb64(res.kvs[0].value)]).toEqual(['p/ключ é', 'värde ☃']);
    const long = `p/${'k'.repeat(3000)}`;
    await both(['put', long, 'v']);
    expect((await both(['get', long, '--keys-only'])).stdout).toBe(`${long}\n\n`);
  });

  it('reads the value from stdin when it is not an argument', async () => {
    await both(['put', 'p/stdin'], 'from stdin');
    expect((await both(['get', 'p/stdin', '--print-value-only'])).stdout).toBe('from stdin\n');
  });
});

describe('get', () => {
  let revFirstA = 0;
  // Creation order c a e b d; a modified once, d twice: every sort target orders differently.
  const writes: Array<[string, string]> = [
    ['g/c', '3'],
    ['g/a', '5'],
    ['g/e', '1'],
    ['g/b', '4'],
    ['g/d', '2'],
    ['g/a', '0'],
    ['g/d', '9'],
    ['g/d', '7'],
  ];

  beforeAll(async () => {
    for (const [k, v] of writes) {
      const res = await json(['put', k, v]);
      if (k === 'g/a' && !revFirstA) revFirstA = Number(res.header.revision);
    }
  });

  it('a single key, and nothing (exit 0) for a missing one', async () => {
    expect(await both(['get', 'g/a'])).toMatchObject({ code: 0, stdout: 'g/a\n0\n' });
    const res = await json(['get', 'g/d']);
    expect(res.count).toBe(1);
    expect(res.kvs[0]).toMatchObject({ version: 3, value: Buffer.from('7').toString('base64') });
    expect(res.kvs[0].create_revision).toBeLessThan(res.kvs[0].mod_revision);
    expect(await both(['get', 'g/zz'])).toMatchObject({ code: 0, stdout: '' });
  });

  it('--prefix, a [key, range_end) range and --from-key', async () => {
    expect(keysOf(await json(['get', 'g/', '--prefix']))).toEqual(['g/a', 'g/b', 'g/c', 'g/d', 'g/e']);
    expect(keysOf(await json(['get', 'g/a', 'g/c']))).toEqual(['g/a', 'g/b']);
    const fromKey = ['g/c', 'g/d', 'g/e', 'p/a', 'p/b', `p/${'k'.repeat(3000)}`, 'p/stdin', 'p/ключ é'];
    expect(keysOf(await json(['get', 'g/c', '--from-key']))).toEqual(fromKey);
    expect((await both(['get', 'g/b', 'g/d'])).stdout).toBe('g/b\n4\ng/c\n3\n');
  });

  it('--limit reports more and the full count', async () => {
    const res = await json(['get', 'g/', '--prefix', '--limit', '2']);
    expect(keysOf(res)).toEqual(['g/a', 'g/b']);
    expect(res.more).toBe(true);
    expect(res.count).toBe(5);
  });

  const expected: Record<string, string[]> = {
    KEY: ['g/a', 'g/b', 'g/c', 'g/d', 'g/e'],
    CREATE: ['g/c', 'g/a', 'g/e', 'g/b', 'g/d'],
    MODIFY: ['g/c', 'g/e', 'g/b', 'g/a', 'g/d'],
    VALUE: ['g/a', 'g/e', 'g/c', 'g/b', 'g/d'],
  };
  const field: Record<string, (kv: any) => number | string> = {
    KEY: (kv) => unb64(kv.key),
    CREATE: (kv) => kv.create_revision,
    MODIFY: (kv) => kv.mod_revision,
    VERSION: (kv) => kv.version,
    VALUE: (kv) => unb64(kv.value),
  };
  for (const target of ['KEY', 'CREATE', 'MODIFY', 'VERSION', 'VALUE']) {
    for (const order of ['ASCEND', 'DESCEND']) {
      it(`--sort-by ${target} --order ${order}`, async () => {
        const res = await json(['get', 'g/', '--prefix', '--sort-by', target, '--order', order]);
        const got = res.kvs.map(field[target]);
        const sorted = [...got].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        expect(got).toEqual(order === 'ASCEND' ? sorted : sorted.reverse());
        // VERSION has ties (c, e, b are at version 1): their order is checked by parity with etcd.
        if (expected[target]) {
          const keys = order === 'ASCEND' ? expected[target] : [...expected[target]].reverse();
          expect(keysOf(res)).toEqual(keys);
        }
      });
    }
  }

  it('--order alone sorts by key; sorting with --limit sorts before truncating', async () => {
    expect(keysOf(await json(['get', 'g/', '--prefix', '--order', 'DESCEND']))).toEqual(
      [...expected.KEY].reverse(),
    );
    const res = await json([
      'get',
      'g/',
      '--prefix',
      '--sort-by',
      'VALUE',
      '--order',
      'DESCEND',
      '--limit',
      '2',
    ]);
    expect(keysOf(res)).toEqual(['g/d', 'g/b']);
    expect(res.more).toBe(true);
  });

  it('--sort-by without --order and --limit: etcd takes the first keys, then sorts them', async () => {
    // etcdctl sends sort_order NONE here; etcd pushes the limit down to the key-ordered range and
    // sorts only what it got (g/a, g/b, g/c by version -> g/b, g/c, g/a).
    const res = await json(['get', 'g/', '--prefix', '--sort-by', 'VERSION', '--limit', '3', '--keys-only']);
    expect(keysOf(res)).toEqual(['g/b', 'g/c', 'g/a']);
  });

  it('the same over gRPC for every non-key sort target with sort_order NONE and a limit', async () => {
    const [c, e] = [connect(cairn.endpoint), connect(etcd.endpoint)];
    try {
      const keys = (r: any) => r.kvs.map((kv: any) => kv.key.toString());
      const got: Record<string, unknown[]> = { cairn: [], etcd: [] };
      for (const sort_target of [1, 2, 3, 4]) {
        const req = {
          key: Buffer.from('g/'),
          range_end: Buffer.from('g0'),
          limit: 3,
          sort_order: 0,
          sort_target,
        };
        const [rc, re] = await Promise.all([c.kv.Range(req), e.kv.Range(req)]);
        got.cairn.push({ sort_target, keys: keys(rc), more: rc.more });
        got.etcd.push({ sort_target, keys: keys(re), more: re.more });
      }
      expect(got.cairn).toEqual(got.etcd);
    } finally {
      c.close();
      e.close();
    }
  });

  it('--keys-only, --print-value-only, -w fields and --hex', async () => {
    const keysOnly = await json(['get', 'g/', '--prefix', '--keys-only']);
    expect(keysOf(keysOnly)).toEqual(expected.KEY);
    expect(keysOnly.kvs.every((kv: any) => kv.value === undefined)).toBe(true);
    expect((await both(['get', 'g/a', 'g/c', '--keys-only'])).stdout).toBe('g/a\n\ng/b\n\n');
    expect((await both(['get', 'g/', '--prefix', '--print-value-only'])).stdout).toBe('0\n4\n3\n7\n1\n');
    await both(['get', 'g/', '--prefix', '-w', 'fields']);
    await both(['get', 'g/a', '--hex']);
  });

  it('--consistency=s answers like a linearizable read', async () => {
    const s = await json(['get', 'g/', '--prefix', '--consistency=s']);
    const l = await json(['get', 'g/', '--prefix']);
    expect(s).toEqual(l);
  });

  it('--rev reads history; a future revision is refused', async () => {
    const res = await json(['get', 'g/', '--prefix', '--rev', String(revFirstA)]);
    expect(keysOf(res)).toEqual(['g/a', 'g/c']);
    expect(valuesOf(res)).toEqual(['5', '3']);
    // The header still carries the current revision.
    expect(res.header.revision).toBe(await currentRevision());
    expect((await both(['get', 'g/a', '--rev', String(revFirstA)])).stdout).toBe('g/a\n5\n');
    await fails(
      ['get', 'g/a', '--rev', '100000'],
      'etcdserver: mvcc: required revision is a future revision',
    );
  });

  it('count-only: etcdctl 3.4 has no --count-only, so the RPC is compared directly', async () => {
    await fails(['get', 'g/', '--prefix', '--count-only'], 'unknown flag: --count-only');
    const req = { key: Buffer.from('g/'), range_end: Buffer.from('g0'), count_only: true };
    const [c, e] = [connect(cairn.endpoint), connect(etcd.endpoint)];
    try {
      const [rc, re] = await Promise.all([settle(c.kv.Range(req)), settle(e.kv.Range(req))]);
      expect(rc.ok).toMatchObject({ count: '5', kvs: [], more: false });
      expect(rc.ok.header.revision).toBe(re.ok.header.revision);
      expect({ ...rc.ok, header: null }).toEqual({ ...re.ok, header: null });
    } finally {
      c.close();
      e.close();
    }
  });

  it('argument and key errors', async () => {
    await fails(['get', ''], 'etcdserver: key is not provided');
    await fails(
      ['get', 'g/', '--prefix', '--from-key'],
      '`--prefix` and `--from-key` cannot be set at the same time, choose one',
    );
    await fails(['get', 'g/', '--sort-by', 'FOO'], 'bad sort target FOO');
    await fails(['get', 'g/', '--order', 'UP'], 'bad sort order UP');
  });
});

describe('del', () => {
  beforeAll(async () => {
    for (const i of [1, 2, 3, 4, 5]) await both(['put', `d/${i}`, `v${i}`]);
  });

  it('a single key prints the number deleted', async () => {
    expect(await both(['del', 'd/1'])).toMatchObject({ code: 0, stdout: '1\n' });
    const rev = await currentRevision();
    expect(await both(['del', 'd/1'])).toMatchObject({ code: 0, stdout: '0\n' });
    // Deleting nothing does not create a revision.
    expect(await currentRevision()).toBe(rev);
  });

  it('--prev-kv returns what was deleted', async () => {
    const res = await json(['del', 'd/2', '--prev-kv']);
    expect(res.deleted).toBe(1);
    expect(res.prev_kvs.map((kv: any) => [unb64(kv.key), unb64(kv.value)])).toEqual([['d/2', 'v2']]);
  });

  it('a [key, range_end) range and --prefix', async () => {
    expect((await both(['del', 'd/3', 'd/5'])).stdout).toBe('2\n');
    expect((await both(['del', 'd/', '--prefix', '--prev-kv'])).stdout).toBe('1\nd/5\nv5\n');
    expect((await both(['get', 'd/', '--prefix'])).stdout).toBe('');
  });

  it('--from-key deletes everything from the key on', async () => {
    await both(['put', 'zz/1', 'a']);
    await both(['put', 'zz/2', 'b']);
    const res = await json(['del', 'zz/', '--from-key', '--prev-kv']);
    expect(res.deleted).toBe(2);
    expect(res.prev_kvs.map((kv: any) => unb64(kv.key))).toEqual(['zz/1', 'zz/2']);
    expect((await both(['get', 'zz/', '--from-key'])).stdout).toBe('');
  });

  it('an empty key is refused', async () => {
    await fails(['del', ''], 'etcdserver: key is not provided');
  });
});

describe('txn', () => {
  let created = 0;
  let modified = 0;
  beforeAll(async () => {
    created = Number((await json(['put', 't/k', 'v'])).header.revision);
    modified = Number((await json(['put', 't/k', 'w'])).header.revision);
  });

  it('all compares true (value, version, create, mod) runs the success branch', async () => {
    const input = [
      'value("t/k") = "w"',
      'version("t/k") > "1"',
      `create("t/k") = "${created}"`,
      `mod("t/k") = "${modified}"`,
      'version("t/none") = "0"',
      '',
      'put t/ok yes',
      'get t/k',
      '',
      'put t/bad no',
      '',
      '',
    ].join('\n');
    const r = await both(['txn'], input);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('SUCCESS\n\nOK\n\nt/k\nw\n');
    expect((await both(['get', 't/bad'])).stdout).toBe('');
  });

  it('a false compare runs the failure branch, with -w json responses', async () => {
    const input = [
      'value("t/k") != "w"',
      `mod("t/k") < "${modified}"`,
      '',
      'put t/never x',
      '',
      'put t/f1 a',
      'get t/ --prefix',
      'del t/ok --prev-kv',
      '',
      '',
    ].join('\n');
    const res = await json(['txn'], input);
    expect(res.succeeded).toBeUndefined();
    const [put, range, del] = res.responses.map((r: any) => r.Response);
    expect(put.ResponsePut.header.revision).toBe(res.header.revision);
    expect(keysOf(range.ResponseRange)).toEqual(['t/f1', 't/k', 't/ok']);
    expect(del.ResponseDeleteRange.deleted).toBe(1);
    expect((await both(['get', 't/never'])).stdout).toBe('');
  });

  it('-i prompts for compares and branches', async () => {
    const r = await both(['txn', '-i'], 'create("t/k") > "0"\n\nput t/i 1\n\nput t/j 1\n\n');
    expect(r.stdout).toBe(
      'compares:\nsuccess requests (get, put, del):\nfailure requests (get, put, del):\nSUCCESS\n\nOK\n',
    );
    expect((await both(['get', 't/i', '--print-value-only'])).stdout).toBe('1\n');
  });

  it('an empty txn succeeds; errors are identical', async () => {
    expect((await both(['txn'], '\n\n\n')).stdout).toBe('SUCCESS\n');
    await fails(['txn'], 'malformed comparison: bad compare', 'bad compare\n\n');
    await fails(['txn'], 'invalid txn compare request: mod("t/k") = "abc"', 'mod("t/k") = "abc"\n\n');
    await fails(['txn'], 'etcdserver: key is not provided', '\nput "" x\n\n\n');
    await fails(['txn'], 'etcdserver: duplicate key given in txn request', '\nput t/d x\nput t/d y\n\n\n');
    await fails(
      ['txn'],
      'etcdserver: mvcc: required revision is a future revision',
      '\nget t/k --rev 100000\n\n\n',
    );
  });
});

describe('compaction', () => {
  const revs: number[] = [];
  beforeAll(async () => {
    for (const v of ['v1', 'v2', 'v3', 'v4'])
      revs.push(Number((await json(['put', 'x/k', v])).header.revision));
  });

  it('compacts, then refuses reads below the compaction revision and serves it', async () => {
    expect((await both(['compaction', String(revs[1])])).stdout).toBe(`compacted revision ${revs[1]}\n`);
    await fails(
      ['get', 'x/k', '--rev', String(revs[0])],
      'etcdserver: mvcc: required revision has been compacted',
    );
    expect((await both(['get', 'x/k', '--rev', String(revs[1])])).stdout).toBe('x/k\nv2\n');
    expect((await both(['get', 'x/k'])).stdout).toBe('x/k\nv4\n');
  });

  it('refuses compacting again at or below it, or in the future', async () => {
    await fails(['compaction', String(revs[1])], 'etcdserver: mvcc: required revision has been compacted');
    await fails(['compaction', String(revs[0])], 'etcdserver: mvcc: required revision has been compacted');
    await fails(['compaction', '100000'], 'etcdserver: mvcc: required revision is a future revision');
  });

  it('--physical waits for the compaction; reads below fail, at and after succeed', async () => {
    expect((await both(['compaction', String(revs[2]), '--physical'])).stdout).toBe(
      `compacted revision ${revs[2]}\n`,
    );
    await fails(
      ['get', 'x/k', '--rev', String(revs[1])],
      'etcdserver: mvcc: required revision has been compacted',
    );
    expect((await both(['get', 'x/k', '--rev', String(revs[2])])).stdout).toBe('x/k\nv3\n');
    expect((await both(['get', 'x/k', '--rev', String(revs[3])])).stdout).toBe('x/k\nv4\n');
    // Keys untouched since before the compaction keep their history from the compaction point on.
    expect((await both(['get', 'g/c', '--rev', String(revs[2])])).stdout).toBe('g/c\n3\n');
  });
});

describe('endpoint', () => {
  const statusOf = async (m: MemberProcess) => {
    const r = await etcdctl(m.endpoint, ['endpoint', 'status', '-w', 'json']);
    expect(r.code).toBe(0);
    return { ids: jsonIds(r.stdout), status: parseJson(r.stdout)[0] };
  };

  it('status -w json: version, db size, leader is itself, raft term, raft index per write', async () => {
    const [c0, e0] = await Promise.all([statusOf(cairn), statusOf(etcd)]);
    expect(c0.status.Endpoint).toBe(cairn.endpoint);
    const s = c0.status.Status;
    expect(s.version).toMatch(/^3\.4\.\d+$/);
    expect(Number(s.dbSize)).toBeGreaterThan(0);
    expect(Number(s.dbSizeInUse)).toBeGreaterThan(0);
    expect(c0.ids.leader).toBe(c0.ids.memberId);
    expect(s.raftTerm).toBe(e0.status.Status.raftTerm);
    expect(s.raftAppliedIndex).toBe(s.raftIndex);
    expect(s.header.revision).toBe(await currentRevision());
    expect(s.isLearner).toBeUndefined();
    expect(s.errors).toBeUndefined();
    // One write is one more raft entry on both.
    await both(['put', 'e/k', 'v']);
    const [c1, e1] = await Promise.all([statusOf(cairn), statusOf(etcd)]);
    expect(Number(c1.status.Status.raftIndex) - Number(s.raftIndex)).toBe(
      Number(e1.status.Status.raftIndex) - Number(e0.status.Status.raftIndex),
    );
    expect(Number(c1.status.Status.raftIndex) - Number(s.raftIndex)).toBe(1);
  });

  it('status -w table and simple show the same fields', async () => {
    const { ids, status } = await statusOf(cairn);
    const r = await etcdctl(cairn.endpoint, ['endpoint', 'status', '-w', 'table']);
    const e = await etcdctl(etcd.endpoint, ['endpoint', 'status', '-w', 'table']);
    expect(r.code).toBe(0);
    const cells = (out: string) =>
      out
        .split('\n')
        .filter((l) => l.startsWith('|'))
        .map((l) =>
          l
            .split('|')
            .slice(1, -1)
            .map((c) => c.trim()),
        );
    const [header, row] = cells(r.stdout);
    expect(header).toEqual(cells(e.stdout)[0]);
    const s = status.Status;
    expect(row).toEqual([
      cairn.endpoint,
      ids.memberId.toString(16),
      s.version,
      expect.stringMatching(/^\d+(\.\d+)? (B|kB|MB)$/),
      'true',
      'false',
      String(s.raftTerm),
      String(s.raftIndex),
      String(s.raftAppliedIndex),
      '',
    ]);
    const simple = await etcdctl(cairn.endpoint, ['endpoint', 'status']);
    expect(simple.stdout.split(', ').map((f) => f.trim())).toEqual([...row.slice(0, -1), '']);
  });

  it('health: simple and json', async () => {
    // etcdctl prints the health line on stderr.
    const took = (r: CtlResult) => ({ ...r, stderr: r.stderr.replace(/took = \S+/, 'took = <t>') });
    const [c, e] = await Promise.all([
      etcdctl(cairn.endpoint, ['endpoint', 'health']),
      etcdctl(etcd.endpoint, ['endpoint', 'health']),
    ]);
    expect(normalize(took(c), cairn.endpoint)).toEqual(normalize(took(e), etcd.endpoint));
    expect(c.stderr).toMatch(/^127\.0\.0\.1:\d+ is healthy: successfully committed proposal: took = /);
    const j = await etcdctl(cairn.endpoint, ['endpoint', 'health', '-w', 'json']);
    expect(JSON.parse(j.stdout)).toEqual([
      { endpoint: cairn.endpoint, health: true, took: expect.any(String) },
    ]);
  });
});
