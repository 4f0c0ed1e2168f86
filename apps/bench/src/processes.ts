// Every child process and temp directory the compare harness creates is registered here, so
// they are cleaned up however the run ends: normally, on an error, or on Ctrl-C.
import { ChildProcess } from 'child_process';
import { rmSync } from 'fs';

const children = new Set<ChildProcess>();
const dirs = new Set<string>();
let installed = false;

export function trackChild(child: ChildProcess): ChildProcess {
  installHandlers();
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export function trackDir(dir: string): string {
  installHandlers();
  dirs.add(dir);
  return dir;
}

/** Keeps a directory (for --keep-data) instead of deleting it at exit. */
export function untrackDir(dir: string): void {
  dirs.delete(dir);
}

/** Stops a child: SIGTERM, then SIGKILL if it lingers. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
}

/** Last-resort cleanup: synchronous, so it also works from the 'exit' event. */
export function killAllNow(): void {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs.clear();
}

function installHandlers(): void {
  if (installed) return;
  installed = true;
  process.once('exit', killAllNow);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      process.stderr.write(`\n${sig}: stopping servers and removing temp data\n`);
      killAllNow();
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    });
  }
}
