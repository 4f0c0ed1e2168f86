// The member process as an operator sees it: version and help, flag errors (exit code, message,
// nothing written), unusable data directories, bad TLS flags, JSON logs, graceful SIGTERM,
// and member/cluster ids compared with etcd 3.4 run with the same flags.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { etcdctl, jsonIds } from '../etcdctl/ctl';
import { MemberKind, REPO_ROOT, freePort } from '../support/members';
import { killAll, listenArgs, runToExit, spawnDaemon } from './daemon';

jest.setTimeout(60_000);

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'cairn-daemon-'));
});
afterEach(async () => {
  await killAll();
  rmSync(tmp, { recursive: true, force: true });
});

const cairnVersion = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version as string;

async function ids(endpoint: string) {
  const r = await etcdctl(endpoint, ['endpoint', 'status', '-w', 'json']);
  expect(r.code).toBe(0);
  return jsonIds(r.stdout);
}

describe('version and help', () => {
  it('--version prints Cairn version and the etcd API version, exit 0', async () => {
    const r = await runToExit('cairn', ['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`cairn Version: ${cairnVersion}\n`);
    expect(r.stdout).toContain('etcd API Version: 3.4\n');
  });

  it('--help prints the flags, exit 0', async () => {
    const r = await runToExit('cairn', ['--help']);
    expect(r.code).toBe(0);
    for (const flag of [
      '--name',
      '--data-dir',
      '--listen-client-urls',
      '--initial-cluster',
      '--election-timeout',
    ])
      expect(r.stdout).toContain(flag);
  });
});

describe('configuration errors stop the member before it touches the data dir', () => {
  const refused = async (args: string[], message: string | RegExp) => {
    const dataDir = join(tmp, 'data');
    const r = await runToExit('cairn', ['--data-dir', dataDir, ...(await listenArgs()).args, ...args]);
    expect(r.code).not.toBe(0);
    expect(r.signal).toBeNull();
    expect(r.stderr).toMatch(message);
    expect(existsSync(dataDir)).toBe(false);
    return r;
  };

  it('an unknown flag is named', async () => {
    await refused(['--foo'], 'flag provided but not defined: -foo');
  });

  it('a malformed URL in --listen-client-urls names the flag and the value', async () => {
    const dataDir = join(tmp, 'data');
    const r = await runToExit('cairn', ['--data-dir', dataDir, '--listen-client-urls', 'foo:bar']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('listen-client-urls');
    expect(r.stderr).toContain('foo:bar');
    expect(existsSync(dataDir)).toBe(false);
  });

  it('--initial-cluster without --name', async () => {
    await refused(
      ['--name', 'm1', '--initial-cluster', 'other=http://127.0.0.1:2380'],
      `couldn't find local name "m1" in the initial cluster configuration`,
    );
  });

  it('--election-timeout below 5x --heartbeat-interval', async () => {
    await refused(
      ['--heartbeat-interval', '100', '--election-timeout', '400'],
      '--election-timeout[400ms] should be at least as 5 times as --heartbeat-interval[100ms]',
    );
  });

  it("bad peer TLS configuration is refused with the reason (etcd's words where it has them)", async () => {
    const peer = `https://127.0.0.1:${await freePort()}`;
    const https = [
      '--listen-peer-urls',
      peer,
      '--initial-advertise-peer-urls',
      peer,
      '--initial-cluster',
      `default=${peer}`,
    ];
    await refused(https, /cannot listen on TLS for 127\.0\.0\.1:\d+: KeyFile and CertFile are not presented/);
    await refused(
      [...https, '--peer-cert-file', join(tmp, 'none.pem'), '--peer-key-file', join(tmp, 'none-key.pem')],
      /cannot read --peer-cert-file .*none\.pem/,
    );
    await refused(
      [...https, '--peer-auto-tls', '--peer-cert-allowed-cn', 'a', '--peer-cert-allowed-hostname', 'b'],
      /AllowedCN and AllowedHostname are mutually exclusive \(cn=\\"a\\", hostname=\\"b\\"\)/,
    );
    await refused(['--cipher-suites', 'BOGUS'], 'unexpected TLS cipher suite "BOGUS"');
  });

  it('an https client URL without a certificate stops the member before it touches the data dir', async () => {
    const dataDir = join(tmp, 'data');
    const r = await runToExit('cairn', [
      '--data-dir',
      dataDir,
      '--listen-client-urls',
      'https://127.0.0.1:1',
      '--advertise-client-urls',
      'https://127.0.0.1:1',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/TLS key\/cert \(--cert-file, --key-file\) must be provided for client url/);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('the same flag errors stop etcd too (parity of the refusal, not of the text)', async () => {
    for (const args of [['--foo'], ['--heartbeat-interval', '100', '--election-timeout', '400']]) {
      const r = await runToExit('etcd', ['--data-dir', join(tmp, 'etcd-data'), ...args]);
      expect({ args, code: r.code === 0 ? 0 : 'non-zero' }).toEqual({ args, code: 'non-zero' });
    }
  });
});

describe('data directory', () => {
  it('a data dir whose parent is a regular file exits non-zero naming the data dir', async () => {
    // Tests run as root, so chmod cannot make a directory unwritable: a file in the path can.
    writeFileSync(join(tmp, 'file'), 'not a directory');
    const dataDir = join(tmp, 'file', 'data');
    const { args } = await listenArgs();
    const r = await runToExit('cairn', ['--data-dir', dataDir, ...args]);
    expect(r.code).not.toBe(0);
    expect(r.signal).toBeNull();
    // The error itself names the data dir (the "starting member" line always does).
    expect(errorText(r.stderr)).toContain(dataDir);
    expect(r.stderr).not.toContain('ready to serve client requests');
  });

  it('a data dir in use by a running member: the second exits non-zero naming the data dir', async () => {
    // etcd 3.4 waits for the lock, naming the db file; Cairn gives up at once, so its message must
    // say what is wrong and where.
    const dataDir = join(tmp, 'data');
    const first = await listenArgs();
    const d = spawnDaemon('cairn', ['--data-dir', dataDir, ...first.args]);
    await d.ready;
    const r = await runToExit('cairn', ['--data-dir', dataDir, ...(await listenArgs()).args]);
    expect(r.code).not.toBe(0);
    expect(errorText(r.stderr)).toContain(dataDir);
    // The running member is unharmed.
    expect((await etcdctl(first.endpoint, ['put', 'k', 'v'])).code).toBe(0);
  });
});

describe('listeners', () => {
  it('a client port in use: exits non-zero naming the address, logging JSON only', async () => {
    const first = await listenArgs();
    const d = spawnDaemon('cairn', ['--data-dir', join(tmp, 'a'), ...first.args]);
    await d.ready;
    const taken = `http://${first.endpoint}`;
    const peer = `http://127.0.0.1:${await freePort()}`;
    const r = await runToExit('cairn', [
      '--data-dir',
      join(tmp, 'b'),
      '--listen-client-urls',
      taken,
      '--advertise-client-urls',
      taken,
      '--listen-peer-urls',
      peer,
    ]);
    expect(r.code).not.toBe(0);
    expect(errorText(r.stderr)).toContain(first.endpoint);
    expect(errorText(r.stderr)).toContain('EADDRINUSE');
    const notJson = r.stderr.split('\n').filter((l) => l.trim() !== '' && !isJson(l));
    expect(notJson).toEqual([]);
  });
});

describe('heap growth', () => {
  /** The member's "heap growing factor set" log entries, once it serves. */
  async function heapGrowthLogs(nodeArgs: string[]): Promise<unknown[]> {
    const d = spawnDaemon(
      'cairn',
      ['--data-dir', join(tmp, 'data'), '--log-level', 'debug', ...(await listenArgs()).args],
      nodeArgs,
    );
    await d.ready;
    await d.kill();
    return d
      .stderr()
      .split('\n')
      .filter((l) => isJson(l) && JSON.parse(l).msg === 'heap growing factor set')
      .map((l) => JSON.parse(l).raised);
  }

  it('a member raises the heap growing factor on its small heap', async () => {
    expect(await heapGrowthLogs([])).toEqual([true]);
  });

  it("an operator's own --heap-growing-percent for node is left alone", async () => {
    expect(await heapGrowthLogs(['--heap-growing-percent=0'])).toEqual([]);
  });
});

/** The error-level log entries (their msg and error fields) and any line that is not JSON. */
function errorText(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      if (!isJson(l)) return l;
      const e = JSON.parse(l);
      return ['error', 'fatal', 'panic'].includes(e.level) ? `${e.msg}: ${e.error ?? ''}` : '';
    })
    .filter((l) => l !== '')
    .join('\n');
}

function isJson(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}

describe('a running member', () => {
  it('logs JSON lines with level, ts and msg, including "ready to serve client requests"', async () => {
    const { args } = await listenArgs();
    const d = spawnDaemon('cairn', ['--data-dir', join(tmp, 'data'), ...args]);
    await d.ready;
    await d.kill('SIGTERM');
    const lines = d
      .stderr()
      .split('\n')
      .filter((l) => l.trim() !== '');
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) {
      const entry = JSON.parse(line);
      expect(entry).toMatchObject({
        level: expect.any(String),
        ts: expect.any(String),
        msg: expect.any(String),
      });
      expect(['debug', 'info', 'warn', 'error', 'fatal', 'panic', 'dpanic']).toContain(entry.level);
      expect(Number.isNaN(Date.parse(entry.ts))).toBe(false);
    }
    expect(lines.map((l) => JSON.parse(l).msg)).toContain('ready to serve client requests');
    // stdout stays free for anything but logs.
    expect(d.stdout()).toBe('');
  });

  it('SIGTERM exits 0 by itself (no SIGKILL needed)', async () => {
    const { args, endpoint } = await listenArgs();
    const d = spawnDaemon('cairn', ['--data-dir', join(tmp, 'data'), ...args]);
    await d.ready;
    expect((await etcdctl(endpoint, ['put', 'k', 'v'])).code).toBe(0);
    expect(await d.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    // And the data it served is on disk for the next start.
    const again = spawnDaemon('cairn', ['--data-dir', join(tmp, 'data'), ...args]);
    await again.ready;
    expect((await etcdctl(endpoint, ['get', 'k', '--print-value-only'])).stdout).toBe('v\n');
    expect(await again.kill('SIGINT')).toEqual({ code: 0, signal: null });
  });
});

describe('member and cluster ids', () => {
  /** Starts `kind` with `args`, reads its ids through etcdctl and stops it. */
  const idsOf = async (kind: MemberKind, args: string[], endpoint: string) => {
    const d = spawnDaemon(kind, args);
    await d.ready;
    try {
      return await ids(endpoint);
    } finally {
      await d.kill('SIGTERM');
    }
  };

  it('default flags (--name default, http://localhost:2380, token etcd-cluster) give etcd ids', async () => {
    // Only listeners are set: name, advertised peer URL, initial cluster and token keep their defaults.
    const got: Record<string, unknown> = {};
    for (const kind of ['cairn', 'etcd'] as const) {
      const { args, endpoint } = await listenArgs();
      got[kind] = await idsOf(kind, ['--data-dir', join(tmp, kind), ...args], endpoint);
    }
    expect(got.cairn).toEqual(got.etcd);
    // etcd's well-known id for the default member.
    expect((got.cairn as { memberId: bigint }).memberId.toString(16)).toBe('8e9e05c52164694d');
  });

  it('a custom name, peer URL and --initial-cluster-token give etcd ids', async () => {
    const peer = `http://127.0.0.1:${await freePort()}`;
    const flags = ['--name', 'n1', '--initial-advertise-peer-urls', peer, '--initial-cluster', `n1=${peer}`];
    const got: Record<string, unknown> = {};
    for (const kind of ['cairn', 'etcd'] as const) {
      const { args, endpoint } = await listenArgs();
      const all = [...flags, '--initial-cluster-token', 'tok-1', '--data-dir', join(tmp, kind), ...args];
      got[kind] = await idsOf(kind, all, endpoint);
    }
    expect(got.cairn).toEqual(got.etcd);
  });

  it('a restart ignores a different --initial-cluster and token and keeps its ids, as etcd does', async () => {
    const peer = `http://127.0.0.1:${await freePort()}`;
    const first = ['--name', 'm1', '--initial-advertise-peer-urls', peer, '--initial-cluster', `m1=${peer}`];
    // On a fresh data dir this would fail the bootstrap checks (m1's URL differs from the advertised one).
    const changed = [
      '--name',
      'm1',
      '--initial-advertise-peer-urls',
      peer,
      '--initial-cluster',
      'm1=http://127.0.0.1:9,m2=http://127.0.0.1:8',
      '--initial-cluster-token',
      'another-token',
    ];
    const result: Record<string, unknown> = {};
    for (const kind of ['cairn', 'etcd'] as const) {
      const dataDir = join(tmp, kind);
      const { args, endpoint } = await listenArgs();
      const before = await idsOf(kind, [...first, '--data-dir', dataDir, ...args], endpoint);
      const after = await idsOf(kind, [...changed, '--data-dir', dataDir, ...args], endpoint);
      expect(after).toEqual(before);
      result[kind] = { before, after };
      const fresh = await runToExit(kind, [...changed, '--data-dir', join(tmp, `${kind}-fresh`), ...args]);
      expect({ kind, exitedNonZero: fresh.code !== 0 }).toEqual({ kind, exitedNonZero: true });
    }
    expect(result.cairn).toEqual(result.etcd);
    expect(readdirSync(join(tmp, 'cairn')).length).toBeGreaterThan(0);
  });
});
