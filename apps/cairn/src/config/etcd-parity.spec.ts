// Runs the real etcd 3.4 binary with the same bad input as Cairn and checks that
// both refuse it, with the same reason where etcd words one. Every case fails in
// etcd before it binds a port or writes data (a guard kills it otherwise), so
// the whole file takes about a second. Skipped when etcd is not installed.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from './config-error';
import { loadConfig } from './load-config';

const etcdVersion = spawnSync('etcd', ['--version'], { encoding: 'utf8' }).stdout ?? '';
const haveEtcd = /etcd Version: 3\.4\./.test(etcdVersion);
const describeEtcd = haveEtcd ? describe : describe.skip;

const dir = mkdtempSync(join(tmpdir(), 'cairn-parity-'));
function yamlFile(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

// Later flags would listen on 127.0.0.1 with kernel-chosen ports, never on the shared default ports.
const SAFE_LISTEN = [
  '--listen-peer-urls=http://127.0.0.1:0',
  '--listen-client-urls=http://127.0.0.1:0',
  '--advertise-client-urls=http://127.0.0.1:2379',
];

interface Case {
  argv: string[];
  env?: NodeJS.ProcessEnv;
  /** Text both etcd's output and Cairn's message contain. */
  says: string;
  /** When Cairn words it differently: text Cairn's message contains. */
  cairnSays?: string;
}

const cases: Case[] = [
  { argv: ['--foo'], says: 'flag provided but not defined: -foo' },
  { argv: ['-foo=1'], says: 'flag provided but not defined: -foo' },
  { argv: ['--name'], says: 'flag needs an argument: -name' },
  { argv: ['---x'], says: 'bad flag syntax: ---x' },
  { argv: ['extra'], says: "'extra' is not a valid flag" },
  { argv: ['--force-new-cluster', 'false'], says: "'false' is not a valid flag" },
  { argv: ['--snapshot-count', 'abc'], says: 'invalid value "abc" for flag -snapshot-count: parse error' },
  { argv: ['--snapshot-count=-1'], says: 'invalid value "-1" for flag -snapshot-count: parse error' },
  { argv: ['--max-txn-ops=1.5'], says: 'invalid value "1.5" for flag -max-txn-ops: parse error' },
  { argv: ['--force-new-cluster=x'], says: 'invalid boolean value "x" for -force-new-cluster: parse error' },
  {
    argv: ['--grpc-keepalive-min-time', '5'],
    says: 'invalid value "5" for flag -grpc-keepalive-min-time: parse error',
  },
  {
    argv: ['--initial-cluster-state', 'foo'],
    says: 'invalid value "foo" for flag -initial-cluster-state: invalid value',
  },
  { argv: ['--listen-client-urls', 'foo'], says: 'URL scheme must be http, https, unix, or unixs: foo' },
  {
    argv: ['--listen-client-urls', 'http://1.2.3.4:1/x'],
    says: 'URL must not contain a path: http://1.2.3.4:1/x',
  },
  {
    argv: ['--listen-client-urls', 'http://1.2.3.4'],
    says: 'URL address does not have the form "host:port"',
  },
  {
    argv: ['--listen-client-urls', 'http://foo:1', '--advertise-client-urls', 'http://x:1'],
    says: 'expected IP in URL for binding (http://foo:1)',
  },
  { argv: ['--advertise-client-urls', 'http://:1'], says: 'unexpected empty host (http://:1)' },
  {
    argv: ['--listen-client-urls', 'http://127.0.0.1:0'],
    says: '--advertise-client-urls is required when --listen-client-urls is set explicitly',
  },
  {
    argv: ['--heartbeat-interval', '100', '--election-timeout', '200'],
    says: '--election-timeout[200ms] should be at least as 5 times as --heartbeat-interval[100ms]',
  },
  {
    argv: ['--election-timeout', '60000', '--heartbeat-interval', '1000'],
    says: '--election-timeout[60000ms] is too long, and should be set less than 50000ms',
  },
  {
    argv: ['--heartbeat-interval', '100', '--election-timeout', '499'],
    says: '--election-timeout[499ms] should be at least as 5 times as --heartbeat-interval[100ms]',
  },
  { argv: ['--heartbeat-interval', '0'], says: '--heartbeat-interval must be >0 (set to 0ms)' },
  { argv: ['--auto-compaction-mode', 'foo'], says: 'unknown auto-compaction-mode "foo"' },
  { argv: ['--logger', 'foo'], says: 'unknown logger option "foo"' },
  { argv: ['--log-level', 'foo'], says: 'unknown level "foo"' },
  {
    argv: ['--log-outputs', 'foo'],
    says: 'unknown log-output "foo" (only supports "default", "stderr", "stdout")',
  },
  {
    argv: ['--log-outputs', 'stdout,stderr'],
    says: `--logger=capnslog supports only 1 value in '--log-outputs'`,
  },
  {
    argv: [],
    env: { ETCD_SNAPSHOT_COUNT: 'abc' },
    says: 'invalid value "abc" for ETCD_SNAPSHOT_COUNT: parse error',
  },
  {
    argv: ['--heartbeat-interval', '100'],
    env: { ETCD_HEARTBEAT_INTERVAL: '50' },
    says: 'conflicting environment variable "ETCD_HEARTBEAT_INTERVAL" is shadowed by corresponding command-line flag',
  },
  {
    argv: ['--config-file', yamlFile('hb.yml', 'heartbeat-interval: 0\n'), '--heartbeat-interval', '100'],
    says: '--heartbeat-interval must be >0 (set to 0ms)',
  },
  {
    argv: ['--config-file', yamlFile('sc.yml', 'snapshot-count: "100"\n')],
    says: 'snapshot-count of type uint64',
  },
  {
    argv: ['--config-file', yamlFile('acr.yml', 'auto-compaction-retention: 1\n')],
    says: 'auto-compaction-retention of type string',
  },
  {
    argv: ['--config-file', yamlFile('lo.yml', 'log-outputs: stderr\n')],
    says: 'log-outputs of type []string',
  },
  { argv: ['--config-file', join(dir, 'missing.yml')], says: 'no such file or directory' },
  // These get past etcd's flag checks, so they run with safe listeners.
  {
    argv: [...SAFE_LISTEN, '--initial-cluster', 'default=http://localhost:2381'],
    says: '--initial-cluster has default=http://localhost:2381 but missing from --initial-advertise-peer-urls=http://localhost:2380',
  },
  {
    argv: [...SAFE_LISTEN, '--initial-cluster', 'default=http://localhost:2380,b=http://localhost:2380'],
    says: 'initial cluster b=http://localhost:2380,default=http://localhost:2380 has duplicate url',
  },
  {
    argv: [
      ...SAFE_LISTEN,
      '--initial-cluster-state',
      'existing',
      '--initial-cluster',
      'a=http://localhost:2380',
    ],
    says: `couldn't find local name "default" in the initial cluster configuration`,
  },
  {
    argv: [...SAFE_LISTEN, '--initial-cluster', 'default=http://localhost:2380,b'],
    says: 'error setting up initial cluster: URL scheme must be http, https, unix, or unixs: ',
  },
  {
    argv: [...SAFE_LISTEN, '--auto-compaction-retention', '1.5'],
    says: 'error parsing CompactionRetention: time: missing unit in duration "1.5"',
  },
];

interface EtcdRun {
  code: number | null;
  output: string;
}

function runEtcd(c: Case, i: number): Promise<EtcdRun> {
  const cwd = mkdtempSync(join(dir, `run${i}-`));
  return new Promise((resolve) => {
    // Never let etcd's own defaults (ports 2379/2380) be reached: etcd exits long before 5s on every case.
    execFile(
      'etcd',
      c.argv,
      { cwd, env: { PATH: process.env.PATH, ...c.env }, timeout: 5000, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ code, output: stdout + stderr });
      },
    );
  });
}

describeEtcd('parity with the etcd 3.4 binary: both refuse', () => {
  let runs: EtcdRun[];
  beforeAll(async () => {
    runs = await Promise.all(cases.map(runEtcd));
  }, 20000);

  it.each(
    cases.map((c, i) => [c.argv.join(' ') + (c.env ? ` with ${JSON.stringify(c.env)}` : ''), i] as const),
  )('%s', (_label, i) => {
    const c = cases[i];
    const run = runs[i];
    // etcd exits 1 or 2 (a panic for --log-level), never 0, and was not killed by the guard
    expect(run.code).not.toBeNull();
    expect(run.code).not.toBe(0);
    expect(run.output).toContain(c.says);
    let err: unknown;
    try {
      loadConfig(c.argv, c.env ?? {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toContain(c.cairnSays ?? c.says);
  });
});
