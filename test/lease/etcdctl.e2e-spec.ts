// etcdctl 3.4's lease commands against Cairn, each also run against a real etcd 3.4 with the same
// history: exit code, stdout and error lines must be identical once each server's own lease id
// (hex in text output, decimal in JSON), member ids and endpoints are normalized. Then expiry
// end to end: a lease kept alive by `etcdctl lease keep-alive` survives, and a lease left alone
// expires and takes its keys with it, also when its member restarted (SIGKILL) in between.
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { CtlResult, etcdctl, normalize, parseJson, unb64 } from '../etcdctl/ctl';
import { MemberProcess, startMember } from '../support/members';

jest.setTimeout(120_000);

let cairn: MemberProcess;
let etcd: MemberProcess;

beforeAll(async () => {
  const started = await Promise.allSettled([startMember('cairn'), startMember('etcd')]);
  if (started[0].status === 'fulfilled') cairn = started[0].value;
  if (started[1].status === 'fulfilled') etcd = started[1].value;
  for (const s of started) if (s.status === 'rejected') throw s.reason;
});

afterAll(async () => {
  await Promise.all([cairn?.stop(), etcd?.stop()]);
});

/** Each side's lease of the current test, as etcdctl prints it (hex) and as JSON carries it. */
interface Ids {
  cairn?: bigint;
  etcd?: bigint;
}

const hex = (id: bigint) => BigInt.asUintN(64, id).toString(16).padStart(16, '0');

function normalizeLease(r: CtlResult, endpoint: string, id: bigint | undefined): CtlResult {
  const n = normalize(r, endpoint);
  const anyHex = (s: string) => s.replace(/\blease [0-9a-f]{1,16}\b/g, 'lease <lease>');
  if (id === undefined) return { code: n.code, stdout: anyHex(n.stdout), stderr: n.stderr };
  const swap = (s: string) =>
    anyHex(s)
      .replace(new RegExp(`\\b${hex(id)}\\b`, 'g'), '<lease>')
      .replace(new RegExp(`\\b${id.toString()}\\b`, 'g'), '<lease>');
  return { code: n.code, stdout: swap(n.stdout), stderr: swap(n.stderr) };
}

/** Runs etcdctl on both, `{L}` standing for each side's lease id (hex); asserts parity. */
async function both(args: string[], ids: Ids = {}): Promise<CtlResult> {
  const fill = (id: bigint | undefined) =>
    args.map((a) => (id === undefined ? a : a.replace('{L}', hex(id))));
  const [c, e] = await Promise.all([
    etcdctl(cairn.endpoint, fill(ids.cairn)),
    etcdctl(etcd.endpoint, fill(ids.etcd)),
  ]);
  expect({ args, ...normalizeLease(c, cairn.endpoint, ids.cairn) }).toEqual({
    args,
    ...normalizeLease(e, etcd.endpoint, ids.etcd),
  });
  return c;
}

/** `lease grant` on both; returns each side's new lease id. */
async function grant(ttl: number): Promise<Ids> {
  const [c, e] = await Promise.all([
    etcdctl(cairn.endpoint, ['lease', 'grant', String(ttl), '-w', 'json']),
    etcdctl(etcd.endpoint, ['lease', 'grant', String(ttl), '-w', 'json']),
  ]);
  const id = (r: CtlResult) => BigInt(/"ID":(-?\d+)/.exec(r.stdout)![1]);
  expect(parseJson(c.stdout).TTL).toBe(parseJson(e.stdout).TTL);
  return { cairn: id(c), etcd: id(e) };
}

/** The first `lines` lines a long-running `etcdctl lease keep-alive` prints, then stops it. */
function keepAliveLines(endpoint: string, id: bigint, lines: number): Promise<string[]> {
  return new Promise((ok, fail) => {
    const child = spawn('etcdctl', ['--endpoints', endpoint, 'lease', 'keep-alive', hex(id)], {
      env: { ...process.env, ETCDCTL_API: '3' },
    });
    let out = '';
    // Never outlive the test, whatever etcdctl does.
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const got = out.split('\n').filter((l) => l !== '');
      if (got.length >= lines) {
        child.kill('SIGKILL');
        ok(got.slice(0, lines));
      }
    });
    child.on('error', fail);
    child.on('exit', () => {
      clearTimeout(guard);
      ok(out.split('\n').filter((l) => l !== ''));
    });
  });
}

describe('etcdctl lease', () => {
  it('grant, put --lease, timetolive --keys, keep-alive, list, revoke, and their errors', async () => {
    const ids = await grant(60);
    expect((await both(['lease', 'grant', '60'])).code).toBe(0);
    // etcd's minimum TTL (2 s with the default election timeout) is what is granted.
    const short = await both(['lease', 'grant', '1']);
    expect(short.stdout).toMatch(/granted with TTL\(2s\)/);
    expect((await both(['put', '--lease={L}', 'lk1', 'v1'], ids)).stdout).toBe('OK\n');
    await both(['put', '--lease={L}', 'lk2', 'v2'], ids);

    const ttl = await both(['lease', 'timetolive', '{L}'], ids);
    expect(ttl.stdout).toMatch(/^lease [0-9a-f]+ granted with TTL\(60s\), remaining\(\d+s\)\n$/);
    // Two keys: etcd lists them in Go map order, so compare the parsed set.
    const [cj, ej] = await Promise.all([
      etcdctl(cairn.endpoint, ['lease', 'timetolive', '--keys', hex(ids.cairn!), '-w', 'json']),
      etcdctl(etcd.endpoint, ['lease', 'timetolive', '--keys', hex(ids.etcd!), '-w', 'json']),
    ]);
    const keys = (r: CtlResult) => parseJson(r.stdout).keys.map(unb64).sort();
    expect(keys(cj)).toEqual(['lk1', 'lk2']);
    expect(keys(cj)).toEqual(keys(ej));
    expect(parseJson(cj.stdout)['granted-ttl']).toBe(60);

    const once = await both(['lease', 'keep-alive', '--once', '{L}'], ids);
    expect(once.stdout).toBe(`lease ${hex(ids.cairn!)} keepalived with TTL(60)\n`);
    const [cl, el] = await Promise.all([
      keepAliveLines(cairn.endpoint, ids.cairn!, 1),
      keepAliveLines(etcd.endpoint, ids.etcd!, 1),
    ]);
    expect(cl).toEqual([`lease ${hex(ids.cairn!)} keepalived with TTL(60)`]);
    expect(el).toEqual([`lease ${hex(ids.etcd!)} keepalived with TTL(60)`]);

    const got = await both(['get', 'lk1', '-w', 'json'], ids);
    expect(parseJson(got.stdout).kvs[0].lease).toBeDefined();
    const list = await etcdctl(cairn.endpoint, ['lease', 'list']);
    expect(list.stdout).toContain(`${hex(ids.cairn!)}\n`);
    expect(list.stdout).toMatch(/^found 3 leases\n/);

    expect((await both(['lease', 'revoke', '{L}'], ids)).stdout).toBe(`lease ${hex(ids.cairn!)} revoked\n`);
    const left = await both(['get', 'lk', '--prefix', '-w', 'json']);
    expect(parseJson(left.stdout).kvs).toBeUndefined();
    expect((await both(['lease', 'timetolive', '{L}'], ids)).stdout).toBe(
      `lease ${hex(ids.cairn!)} already expired\n`,
    );
    const fails = async (args: string[], message: string, withIds: Ids = {}) => {
      const r = await both(args, withIds);
      expect(r.code).not.toBe(0);
      expect(r.stderr.trim().split('\n').pop()).toBe(`Error: ${message}`);
    };
    await fails(
      ['lease', 'revoke', '{L}'],
      'failed to revoke lease (etcdserver: requested lease not found)',
      ids,
    );
    await fails(['put', '--lease=1234', 'k', 'v'], 'etcdserver: requested lease not found');
    await fails(['lease', 'keep-alive', '--once', '1234'], 'etcdserver: requested lease not found');
    await fails(['lease', 'grant', '9000000001'], 'failed to grant lease (etcdserver: too large lease TTL)');
  });
});

describe('expiry', () => {
  /** Waits for `check` to hold, generously: the machine may be busy. */
  async function eventually(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error('condition not reached');
      await sleep(100);
    }
  }
  const count = async (m: MemberProcess, prefix: string) => {
    const r = await etcdctl(m.endpoint, ['get', prefix, '--prefix', '--keys-only', '-w', 'json']);
    if (r.code !== 0) throw new Error(`etcdctl get failed: ${r.stderr}`);
    return (parseJson(r.stdout).kvs ?? []).length;
  };

  it('keeps a lease that etcdctl keeps alive, expires it (and its keys) once left alone', async () => {
    const res = await etcdctl(cairn.endpoint, ['lease', 'grant', '2', '-w', 'json']);
    const id = BigInt(/"ID":(-?\d+)/.exec(res.stdout)![1]);
    await etcdctl(cairn.endpoint, ['put', `--lease=${hex(id)}`, 'ka/1', 'v']);
    // etcdctl renews every TTL/3; wait for several TTLs' worth of keep-alives.
    const lines = await keepAliveLines(cairn.endpoint, id, 8);
    expect(lines).toHaveLength(8);
    expect(await count(cairn, 'ka/')).toBe(1);
    await eventually(async () => (await count(cairn, 'ka/')) === 0);
    const ttl = await etcdctl(cairn.endpoint, ['lease', 'timetolive', hex(id)]);
    expect(ttl.stdout).toBe(`lease ${hex(id)} already expired\n`);
  });

  // etcd runs the same steps as the judge of what they should show.
  it.each(['cairn', 'etcd'] as const)(
    '%s: expires a lease whose member was killed and restarted, deleting its keys in one revision',
    async (kind) => {
      const member = await startMember(kind);
      try {
        const res = await etcdctl(member.endpoint, ['lease', 'grant', '4', '-w', 'json']);
        const id = BigInt(/"ID":(-?\d+)/.exec(res.stdout)![1]);
        for (const k of ['x/1', 'x/2', 'x/3'])
          await etcdctl(member.endpoint, ['put', `--lease=${hex(id)}`, k, 'v']);
        await member.kill('SIGKILL');
        const restarted = await member.restart();
        const ttl = parseJson(
          (await etcdctl(restarted.endpoint, ['lease', 'timetolive', '--keys', hex(id), '-w', 'json']))
            .stdout,
        );
        expect(ttl['granted-ttl']).toBe(4);
        expect(ttl.keys.map(unb64).sort()).toEqual(['x/1', 'x/2', 'x/3']);
        const before = Number(ttl.revision);
        await eventually(async () => (await count(restarted, 'x/')) === 0);
        const after = parseJson((await etcdctl(restarted.endpoint, ['get', 'x/', '-w', 'json'])).stdout);
        expect(Number(after.header.revision)).toBe(before + 1);
        await restarted.stop();
      } finally {
        await member.stop();
      }
    },
  );
});
