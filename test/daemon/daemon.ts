// Spawns a Cairn or etcd daemon with exactly the given flags (test/support/members.ts always adds
// its own name and cluster flags), to check what an operator sees: exit codes, messages, logs.
import { ChildProcess, spawn } from 'node:child_process';
import { CAIRN_MAIN, MemberKind, freePort } from '../support/members';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Daemon {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<Exit>;
  /** Resolves once the daemon logs "ready to serve client requests"; rejects if it exits first. */
  ready: Promise<void>;
  /** Signals the daemon and waits for it to exit (SIGKILL after 10 s, which a test can see). */
  kill(signal?: NodeJS.Signals): Promise<Exit>;
}

const running = new Set<Daemon>();

/** `nodeArgs` go to node before Cairn's entry point (Cairn only). */
export function spawnDaemon(kind: MemberKind, args: string[], nodeArgs: string[] = []): Daemon {
  const child =
    kind === 'cairn'
      ? spawn(process.execPath, [...nodeArgs, CAIRN_MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('etcd', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<Exit>((ok) => child.once('close', (code, signal) => ok({ code, signal })));
  const ready = new Promise<void>((ok, fail) => {
    const check = () => {
      if ((out + err).includes('ready to serve client requests')) ok();
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    void exited.then((e) => fail(new Error(`${kind} exited (${e.code ?? e.signal}) before ready:\n${err}`)));
  });
  ready.catch(() => undefined);
  const daemon: Daemon = {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    ready,
    kill: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const e = await exited;
      clearTimeout(force);
      return e;
    },
  };
  running.add(daemon);
  void exited.then(() => running.delete(daemon));
  return daemon;
}

/** Runs a daemon that is expected to exit by itself (bad flags, --version, --help). */
export async function runToExit(
  kind: MemberKind,
  args: string[],
): Promise<Exit & { stdout: string; stderr: string }> {
  const d = spawnDaemon(kind, args);
  const force = setTimeout(() => d.child.kill('SIGKILL'), 20_000);
  const e = await d.exited;
  clearTimeout(force);
  return { ...e, stdout: d.stdout(), stderr: d.stderr() };
}

/** Kills whatever a test left running. */
export async function killAll(): Promise<void> {
  await Promise.all([...running].map((d) => d.kill('SIGKILL')));
}

/** Client and peer listeners on free loopback ports (peer URLs are not advertised by these). */
export async function listenArgs(): Promise<{ args: string[]; endpoint: string }> {
  const client = `http://127.0.0.1:${await freePort()}`;
  const peer = `http://127.0.0.1:${await freePort()}`;
  return {
    args: ['--listen-client-urls', client, '--advertise-client-urls', client, '--listen-peer-urls', peer],
    endpoint: client.slice('http://'.length),
  };
}
