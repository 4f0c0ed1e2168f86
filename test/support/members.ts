// Spawns real member processes (Cairn's daemon or etcd 3.4) on free loopback ports.
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../../apps/bench/src/ports';
import type { PeerNetwork } from './fault-proxy';

export const REPO_ROOT = resolve(__dirname, '../..');
export const CAIRN_MAIN = join(REPO_ROOT, 'dist/apps/cairn/main.js');

export type MemberKind = 'cairn' | 'etcd';

export interface MemberProcess {
  kind: MemberKind;
  /** host:port for gRPC clients. */
  endpoint: string;
  dataDir: string;
  child: ChildProcess;
  log(): string;
  /** Sends a signal and waits for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the member again on the same ports and data directory (with `moreArgs` if given). */
  restart(moreArgs?: string[], more?: Pick<MemberOptions, 'onOutput'>): Promise<MemberProcess>;
  /** Stops the member and removes its data directory. */
  stop(): Promise<void>;
}

export interface MemberOptions {
  name?: string;
  dataDir?: string;
  extraArgs?: string[];
  readyTimeoutMs?: number;
  ports?: { client: number; peer: number };
  /** --initial-cluster for a member of a larger cluster (default: this member alone). */
  initialCluster?: string;
  /** Peer URLs to listen on and to advertise when they differ (a proxy in between). */
  peerUrls?: { listen: string; advertised: string };
  /** The client URL's scheme (https: give the certificate flags in extraArgs). */
  clientScheme?: 'http' | 'https';
  /** Called with the pid of every process started for this member, restarts included. */
  onSpawn?: (pid: number) => void;
  /** Sees the process's output as it comes, before the member is ready (e.g. to kill it mid-start). */
  onOutput?: (text: string, child: ChildProcess) => void;
  /** false: return once spawned, without waiting for it to serve (a member expected never to). */
  waitReady?: boolean;
}

// Every member a test spawned dies with the test process, even when a test fails before its
// cleanup runs: a leftover member would keep a port and the runner alive.
const spawned = new Set<ChildProcess>();
process.once('exit', () => spawned.forEach((c) => c.kill('SIGKILL')));

export { freePort };

/** The etcd-style flags both daemons take for a one-member cluster on loopback. */
export function memberArgs(
  name: string,
  dataDir: string,
  client: number,
  peer: number,
  initialCluster = `${name}=http://127.0.0.1:${peer}`,
  peerUrls = { listen: `http://127.0.0.1:${peer}`, advertised: `http://127.0.0.1:${peer}` },
  clientScheme: 'http' | 'https' = 'http',
): string[] {
  const clientUrl = `${clientScheme}://127.0.0.1:${client}`;
  // prettier-ignore
  return [
    '--name', name, '--data-dir', dataDir,
    '--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl,
    '--listen-peer-urls', peerUrls.listen, '--initial-advertise-peer-urls', peerUrls.advertised,
    '--initial-cluster', initialCluster,
  ];
}

export async function startMember(kind: MemberKind, opts: MemberOptions = {}): Promise<MemberProcess> {
  const name = opts.name ?? 'm1';
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), `cairn-test-${kind}-`));
  const ports = opts.ports ?? { client: await freePort(), peer: await freePort() };
  const args = [
    ...memberArgs(
      name,
      dataDir,
      ports.client,
      ports.peer,
      opts.initialCluster,
      opts.peerUrls,
      opts.clientScheme,
    ),
    ...(opts.extraArgs ?? []),
  ];
  const child =
    kind === 'cairn'
      ? spawn(process.execPath, [CAIRN_MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('etcd', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  spawned.add(child);
  child.once('exit', () => spawned.delete(child));
  if (child.pid !== undefined) opts.onSpawn?.(child.pid);
  let output = '';
  const append = (d: Buffer) => {
    output = (output + d.toString()).slice(-256 * 1024);
    opts.onOutput?.(d.toString(), child);
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  let exited = child.exitCode !== null;
  const exitedP = new Promise<void>((ok) => child.once('exit', () => ((exited = true), ok())));

  const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (exited) return;
    child.kill(signal);
    const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exitedP;
    clearTimeout(force);
  };
  const member: MemberProcess = {
    kind,
    endpoint: `127.0.0.1:${ports.client}`,
    dataDir,
    child,
    log: () => output,
    kill,
    restart: async (moreArgs: string[] = [], more = {}) => {
      await kill();
      return startMember(kind, {
        ...opts,
        onOutput: undefined,
        ...more,
        name,
        dataDir,
        ports,
        extraArgs: [...(opts.extraArgs ?? []), ...moreArgs],
      });
    },
    stop: async () => {
      await kill();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };

  if (opts.waitReady === false) return member;
  const timeoutMs = opts.readyTimeoutMs ?? 30_000;
  const ready = await new Promise<boolean>((ok) => {
    const deadline = setTimeout(() => ok(false), timeoutMs);
    const check = () => {
      if (output.includes('ready to serve client requests')) {
        clearTimeout(deadline);
        ok(true);
      }
    };
    child.stderr!.on('data', check);
    child.once('exit', () => (clearTimeout(deadline), ok(false)));
    check();
  });
  if (!ready) {
    await kill('SIGKILL');
    throw new Error(`${kind} did not become ready within ${timeoutMs}ms:\n${output.slice(-4000)}`);
  }
  return member;
}

export interface ClusterOptions {
  /** Flags for every member (e.g. raft timing). */
  extraArgs?: string[];
  token?: string;
  /** Members talk through this fault-injecting network (names m1..mn must be its peers). */
  network?: PeerNetwork;
}

/** A member to start: its name and the loopback ports it will use. */
export interface MemberSpec {
  name: string;
  ports: { client: number; peer: number };
}

/** Members m1..mn, each with free client and peer ports. */
export async function memberSpecs(n: number): Promise<MemberSpec[]> {
  const specs: MemberSpec[] = [];
  for (let i = 1; i <= n; i++)
    specs.push({ name: `m${i}`, ports: { client: await freePort(), peer: await freePort() } });
  return specs;
}

/** --initial-cluster listing `specs` on their loopback peer ports. */
export function initialClusterOf(specs: MemberSpec[]): string {
  return specs.map((s) => `${s.name}=http://127.0.0.1:${s.ports.peer}`).join(',');
}

/** Raft timing for test clusters: elections within a second or so. */
export const FAST_RAFT = ['--heartbeat-interval', '50', '--election-timeout', '500'];

/**
 * Starts an n-member cluster of `kind` on loopback with etcd-style flags (--initial-cluster
 * listing every member, state new, one token); resolves when every member serves clients.
 */
export async function startCluster(
  kind: MemberKind,
  n: number,
  opts: ClusterOptions = {},
): Promise<MemberProcess[]> {
  const specs = await memberSpecs(n);
  const net = opts.network;
  const peerUrlsOf = (name: string) => {
    const peer = net?.peers.get(name);
    return peer && { listen: peer.listenUrl, advertised: peer.advertisedUrl };
  };
  const initialCluster = specs
    .map((s) => `${s.name}=${peerUrlsOf(s.name)?.advertised ?? `http://127.0.0.1:${s.ports.peer}`}`)
    .join(',');
  const extraArgs = [
    '--initial-cluster-state',
    'new',
    '--initial-cluster-token',
    opts.token ?? 'cairn-test-cluster',
    ...(opts.extraArgs ?? []),
  ];
  return allStarted(
    specs.map((s) =>
      startMember(kind, {
        name: s.name,
        ports: s.ports,
        initialCluster,
        extraArgs,
        peerUrls: peerUrlsOf(s.name),
        onSpawn: net && ((pid) => net.register(s.name, pid)),
      }),
    ),
  );
}

/** The members once every start succeeded; if one failed, the others are stopped and its error thrown. */
export async function allStarted(starts: Promise<MemberProcess>[]): Promise<MemberProcess[]> {
  const started = await Promise.allSettled(starts);
  const members = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(members.map((m) => m.stop()));
    throw failed.reason;
  }
  return members;
}

/** What a removed member logs as it stops, etcd's words (Cairn's are the same). */
export const MEMBER_REMOVED_MESSAGE = 'the member has been permanently removed from the cluster';

/** The process's exit status once it exits ('running' if it has not within `timeoutMs`). */
export function exitStatus(child: ChildProcess, timeoutMs = 60_000): Promise<number | null | 'running'> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((ok) => {
    const timer = setTimeout(() => ok('running'), timeoutMs);
    child.once('exit', (code) => (clearTimeout(timer), ok(code)));
  });
}
