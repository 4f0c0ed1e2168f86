// `etcdctl watch` 3.4 against Cairn and against a real etcd 3.4 with the same history: what it
// prints (prefix, --rev, --prev-kv, ranges, JSON, interactive mode, a compacted start) must be
// identical once ids are normalized.
import { ChildProcess, spawn } from 'node:child_process';
import { MemberProcess, startMember } from '../support/members';
import { etcdctl, normalize } from './ctl';

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

/** A running `etcdctl watch`: its output so far, its stdin, and a way to stop it. */
interface Watching {
  out(): string;
  child: ChildProcess;
  until(pred: (out: string) => boolean): Promise<void>;
  stop(): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

function watch(endpoint: string, args: string[]): Watching {
  const child = spawn('etcdctl', ['--endpoints', endpoint, 'watch', ...args], {
    env: { ...process.env, ETCDCTL_API: '3' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
  let done = false;
  void exited.then(() => (done = true));
  return {
    out: () => stdout,
    child,
    until: (pred) =>
      new Promise((ok, fail) => {
        const deadline = Date.now() + 30_000;
        const tick = () => {
          if (pred(stdout) || done) return ok();
          if (Date.now() > deadline)
            return fail(new Error(`etcdctl watch printed only:\n${stdout}\n${stderr}`));
          setTimeout(tick, 20);
        };
        tick();
      }),
    stop: async () => {
      if (!done) child.kill('SIGINT');
      const code = await exited;
      return { code, stdout, stderr };
    },
  };
}

/** The same etcdctl command on both members, in turn; both must succeed alike. */
async function run(args: string[]): Promise<void> {
  for (const m of [etcd, cairn]) {
    const r = await etcdctl(m.endpoint, args);
    expect({ args, code: r.code, err: r.stderr }).toEqual({ args, code: 0, err: '' });
  }
}

/** Starts the same watch on both, runs `writes`, waits for `marker` in both outputs, compares. */
async function compareWatch(args: string[], writes: string[][], marker: string): Promise<string> {
  const ws = [watch(etcd.endpoint, args), watch(cairn.endpoint, args)];
  // etcdctl prints nothing until an event: give both a moment to open their stream first.
  await new Promise((r) => setTimeout(r, 500));
  for (const w of writes) await run(w);
  await Promise.all(ws.map((w) => w.until((out) => out.includes(marker))));
  const [e, c] = await Promise.all(ws.map((w) => w.stop()));
  const norm = (r: { code: number | null; stdout: string; stderr: string }, m: MemberProcess) =>
    normalize({ code: r.code ?? -1, stdout: r.stdout, stderr: r.stderr }, m.endpoint).stdout;
  expect(norm(c, cairn)).toEqual(norm(e, etcd));
  return c.stdout;
}

describe('etcdctl watch', () => {
  beforeAll(async () => {
    await run(['put', 'w/a', '1']);
    await run(['put', 'w/b', '2']);
    await run(['put', 'w/a', '3']);
    await run(['del', 'w/b']);
    await run(['put', 'other', 'x']);
  });

  it('replays a prefix from --rev with --prev-kv, then follows live writes', async () => {
    const out = await compareWatch(
      ['--prefix', 'w/', '--rev', '2', '--prev-kv'],
      [
        ['put', 'w/c', 'live'],
        ['put', 'w/c', 'again'],
        ['put', 'w/end', 'marker-1'],
      ],
      'marker-1',
    );
    expect(out.split('\n').slice(0, 6)).toEqual(['PUT', 'w/a', '1', 'PUT', 'w/b', '2']);
    expect(out).toContain('PUT\nw/c\nlive\nw/c\nagain\n');
  });

  it('watches one key, and a [key, range_end) range, in JSON', async () => {
    await compareWatch(
      ['w/a'],
      [
        ['put', 'w/a', 'x'],
        ['put', 'w/b', 'y'],
        ['put', 'w/a', 'marker-2'],
      ],
      'marker-2',
    );
    const json = await compareWatch(
      ['-w', 'json', '--rev', '2', 'w/a', 'w/c'],
      [['put', 'w/b', 'marker-3']],
      'bWFya2VyLTM=',
    );
    expect(json).toContain('"Events"');
  });

  it('takes watch commands on stdin in interactive mode', async () => {
    const ws = [watch(etcd.endpoint, ['-i']), watch(cairn.endpoint, ['-i'])];
    for (const w of ws) {
      w.child.stdin!.write('watch --prefix i/\n');
      w.child.stdin!.write('watch --rev 2 --prev-kv w/a\n');
    }
    await new Promise((r) => setTimeout(r, 500));
    await run(['put', 'i/1', 'one']);
    await run(['put', 'w/a', 'marker-4']);
    await Promise.all(ws.map((w) => w.until((out) => out.includes('marker-4'))));
    const [e, c] = await Promise.all(ws.map((w) => w.stop()));
    // The two watches' outputs interleave in whatever order the streams deliver: compare each.
    const lines = (s: string) => s.split('\n').sort();
    expect(lines(c.stdout)).toEqual(lines(e.stdout));
    expect(c.stdout).toContain('PUT\ni/1\none\n');
  });

  it('reports a compacted start revision as etcd does', async () => {
    const rev = async (m: MemberProcess) =>
      Number(/"revision":(\d+)/.exec((await etcdctl(m.endpoint, ['get', 'x', '-w', 'json'])).stdout)![1]);
    const [re, rc] = [await rev(etcd), await rev(cairn)];
    expect(rc).toBe(re);
    await run(['compact', String(re)]);
    const ws = [watch(etcd.endpoint, ['--rev', '2', 'w/a']), watch(cairn.endpoint, ['--rev', '2', 'w/a'])];
    const [e, c] = await Promise.all(
      ws.map(async (w) => {
        await w.until((out) => out.length > 0);
        await new Promise((r) => setTimeout(r, 300));
        return w.stop();
      }),
    );
    expect({ code: c.code, stdout: c.stdout, stderr: c.stderr }).toEqual({
      code: e.code,
      stdout: e.stdout,
      stderr: e.stderr,
    });
    expect(c.stderr + c.stdout).toContain('required revision has been compacted');
  });
});
