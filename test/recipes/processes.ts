// Helpers for recipe tests that run etcdctl or a Node child process next to the test.
import { ChildProcess, spawn } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/members';

export interface Proc {
  child: ChildProcess;
  output(): string;
  /** Resolves once the output matches. */
  waitFor(re: RegExp): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

const children = new Set<ChildProcess>();
/** Kills every child a test started and that is still running (also when the test process exits). */
export const killChildren = () => children.forEach((c) => c.kill('SIGKILL'));
process.once('exit', killChildren);

export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  children.add(child);
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => ((out += d.toString()), listeners.forEach((l) => l()));
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((ok) =>
    child.once('exit', (code) => (children.delete(child), ok(code))),
  );
  return {
    child,
    output: () => out,
    exited,
    waitFor: (re) =>
      new Promise((ok, fail) => {
        const check = () => {
          const m = out.match(re);
          if (m) return (listeners.delete(check), ok(m));
        };
        listeners.add(check);
        exited.then(() => !out.match(re) && fail(new Error(`exited without ${re}:\n${out}`)));
        check();
      }),
  };
}

/** `endpoints`: one member's, or a cluster's (etcdctl fails over between them). */
export const etcdctl = (endpoints: string | string[], ...args: string[]): Proc =>
  run('etcdctl', [`--endpoints=${[endpoints].flat().join(',')}`, ...args], { ETCDCTL_API: '3' });

/**
 * Runs a JavaScript snippet in a child Node process with `client` and `recipes` (the built SDK) in
 * scope; `c` is a client on `endpoints`.
 */
export function nodeChild(endpoints: string | string[], body: string): Proc {
  const file = join(mkdtempSync(join(tmpdir(), 'cairn-child-')), 'child.js');
  writeFileSync(
    file,
    `const client = require(${JSON.stringify(join(REPO_ROOT, 'dist/libs/client/src'))});
const recipes = require(${JSON.stringify(join(REPO_ROOT, 'dist/libs/recipes/src'))});
const c = new client.CairnClient({ endpoints: ${JSON.stringify([endpoints].flat())} });
(async () => { ${body} })().catch((e) => { console.error('child failed', e); process.exit(1); });
`,
  );
  return run(process.execPath, [file]);
}
