// Starts a throw-away etcd or Cairn cluster on loopback for the compare harness. Both take the
// same etcd-style flags; a member is ready when it logs "ready to serve client requests" (etcd
// does, on stderr) or when its client port answers Status with a known leader.
import { spawn } from 'child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { openConn } from './conn';
import { freePort } from './ports';
import { removeDir, stopChild, trackChild, trackDir, untrackDir } from './processes';
import { etcdType } from './proto';

export interface MemberPlan {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
}

export interface ClusterPlan {
  /** Label used in logs and member names, e.g. "etcd" or "cairn". */
  label: string;
  /** Command and leading arguments, e.g. ["etcd"] or [node, "dist/apps/cairn/main.js"]. */
  command: string[];
  members: MemberPlan[];
  /** Extra flags for every member (e.g. etcd's --quota-backend-bytes). */
  extraArgs: string[];
}

export interface RunningCluster {
  endpoints: string[];
  baseDir: string;
  /** CPU seconds used so far by all members (user + system); undefined where /proc is missing. */
  cpuSeconds(): number | undefined;
  stop(): Promise<void>;
}

/** User + system CPU seconds of a live process, from /proc (Linux); undefined elsewhere. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

// USER_HZ: 100 on every mainstream Linux build.
const CLOCK_TICKS = 100;

export const READY_LINE = 'ready to serve client requests';

/** Plans an n-member cluster: names, loopback URLs and data dirs under baseDir. */
export function planCluster(
  label: string,
  command: string[],
  ports: number[],
  baseDir: string,
  extraArgs: string[] = [],
): ClusterPlan {
  const n = ports.length / 2;
  if (!Number.isInteger(n) || n < 1) throw new Error('need two ports per member');
  const members = Array.from({ length: n }, (_, i) => ({
    name: `${label}-${i}`,
    clientUrl: `http://127.0.0.1:${ports[2 * i]}`,
    peerUrl: `http://127.0.0.1:${ports[2 * i + 1]}`,
    dataDir: path.join(baseDir, `${label}-${i}.data`),
  }));
  return { label, command, members, extraArgs };
}

/** The etcd-style flags that start one member of a new cluster. */
export function memberArgs(plan: ClusterPlan, m: MemberPlan): string[] {
  const initialCluster = plan.members.map((x) => `${x.name}=${x.peerUrl}`).join(',');
  // prettier-ignore
  return [
    '--name', m.name,
    '--data-dir', m.dataDir,
    '--listen-client-urls', m.clientUrl,
    '--advertise-client-urls', m.clientUrl,
    '--listen-peer-urls', m.peerUrl,
    '--initial-advertise-peer-urls', m.peerUrl,
    '--initial-cluster', initialCluster,
    ...plan.extraArgs,
  ];
}

/** Splits a command line given as one string ("node dist/x.js --flag") on whitespace. */
export function splitCommand(cmd: string): string[] {
  return cmd.trim().split(/\s+/).filter(Boolean);
}

export interface StartOptions {
  keepData: boolean;
  readyTimeoutMs?: number;
  log?: (line: string) => void;
}

export async function startCluster(
  label: string,
  command: string[],
  size: number,
  extraArgs: string[],
  opts: StartOptions,
): Promise<RunningCluster> {
  const baseDir = trackDir(mkdtempSync(path.join(tmpdir(), `cairn-bench-${label}-`)));
  const ports: number[] = [];
  while (ports.length < size * 2) ports.push(await freePort());
  const plan = planCluster(label, command, ports, baseDir, extraArgs);

  const children = plan.members.map((m) => {
    mkdirSync(m.dataDir, { recursive: true });
    const child = trackChild(
      spawn(command[0], [...command.slice(1), ...memberArgs(plan, m)], { stdio: ['ignore', 'pipe', 'pipe'] }),
    );
    const logFile = createWriteStream(path.join(baseDir, `${m.name}.log`));
    child.stdout!.pipe(logFile);
    child.stderr!.pipe(logFile);
    return { member: m, child, logFile };
  });

  const stop = async () => {
    await Promise.all(children.map((c) => stopChild(c.child)));
    children.forEach((c) => c.logFile.end());
    if (opts.keepData) {
      untrackDir(baseDir);
      opts.log?.(`${label}: data and logs kept in ${baseDir}`);
    } else removeDir(baseDir);
  };

  try {
    await Promise.all(children.map((c) => waitReady(c.child, c.member, opts.readyTimeoutMs ?? 30000)));
  } catch (e) {
    await stop();
    throw e;
  }
  const cpuSeconds = () => {
    const each = children.map((c) =>
      c.child.pid === undefined ? undefined : processCpuSeconds(c.child.pid),
    );
    return each.some((x) => x === undefined) ? undefined : each.reduce((a, b) => a! + b!, 0);
  };
  return {
    endpoints: plan.members.map((m) => m.clientUrl.replace(/^http:\/\//, '')),
    baseDir,
    cpuSeconds,
    stop,
  };
}

/** Resolves when the member logs its ready line or answers Status with a leader. */
function waitReady(child: ReturnType<typeof spawn>, m: MemberPlan, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = false;
    let tail = '';
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearInterval(poller);
      if (err) reject(err);
      else resolve();
    };
    const onOutput = (d: Buffer) => {
      tail = (tail + d.toString()).slice(-8192);
      if (tail.includes(READY_LINE)) finish();
    };
    child.stdout!.on('data', onOutput);
    child.stderr!.on('data', onOutput);
    child.once('exit', (code, sig) =>
      finish(new Error(`${m.name} exited (${code ?? sig}) before it was ready:\n${tail.slice(-3000)}`)),
    );
    const timer = setTimeout(
      () => finish(new Error(`${m.name} not ready within ${timeoutMs} ms:\n${tail.slice(-3000)}`)),
      timeoutMs,
    );
    const poller = setInterval(() => {
      hasLeader(m.clientUrl.replace(/^http:\/\//, '')).then(
        (ok) => ok && finish(),
        () => undefined,
      );
    }, 250);
  });
}

/** One Status call; true when the member knows a leader. */
async function hasLeader(endpoint: string): Promise<boolean> {
  const conn = openConn('h2', endpoint, -1);
  try {
    await conn.ready(1000);
    const StatusResponse = etcdType('StatusResponse');
    const res = await conn.unary('/etcdserverpb.Maintenance/Status', Buffer.alloc(0), (b) =>
      StatusResponse.toObject(StatusResponse.decode(b), { longs: String }),
    );
    return res.leader !== undefined && res.leader !== '0';
  } finally {
    conn.close();
  }
}
