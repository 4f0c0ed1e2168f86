import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/** etcd's default bcrypt cost (--bcrypt-cost); etcd accepts 4 to 31. */
export const DEFAULT_BCRYPT_COST = 10;
export const MIN_BCRYPT_COST = 4;
export const MAX_BCRYPT_COST = 31;

// bcrypt is deliberately slow (tens of milliseconds of CPU per login at cost 10): on the event
// loop, a burst of logins would hold back every other request of the member. It runs on worker
// threads instead, so the event loop only posts the job and takes the answer.
const BCRYPT_WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const bcrypt = require(workerData.module);
parentPort.on('message', ({ id, op, password, cost, hash }) => {
  try {
    const result = op === 'hash' ? bcrypt.hashSync(password, cost) : bcrypt.compareSync(password, hash);
    parentPort.postMessage({ id, result });
  } catch (err) {
    parentPort.postMessage({ id, error: String((err && err.message) || err) });
  }
});
`;

type Job = { op: 'hash'; password: string; cost: number } | { op: 'compare'; password: string; hash: string };

interface Pending {
  resolve: (result: string | boolean) => void;
  reject: (err: Error) => void;
}

/** One bcrypt thread and the jobs posted to it that have not been answered. */
class BcryptThread {
  private readonly worker: Worker;
  readonly pending = new Map<number, Pending>();
  dead = false;

  constructor() {
    this.worker = new Worker(BCRYPT_WORKER_SOURCE, {
      eval: true,
      workerData: { module: require.resolve('bcryptjs') },
    });
    // Idle threads must not keep a process (or a test runner) alive; a pending job holds a ref.
    this.worker.unref();
    this.worker.on('message', (msg: { id: number; result?: string | boolean; error?: string }) => {
      const job = this.pending.get(msg.id);
      if (!job) return;
      this.pending.delete(msg.id);
      if (this.pending.size === 0) this.worker.unref();
      if (msg.error !== undefined) job.reject(new Error(`bcrypt: ${msg.error}`));
      else job.resolve(msg.result!);
    });
    this.worker.on('error', (err) => this.die(err));
    this.worker.on('exit', () => this.die(new Error('bcrypt worker exited')));
  }

  run(id: number, job: Job, pending: Pending): void {
    this.pending.set(id, pending);
    this.worker.ref();
    this.worker.postMessage({ id, ...job });
  }

  private die(err: Error): void {
    this.dead = true;
    for (const job of this.pending.values()) job.reject(err);
    this.pending.clear();
  }
}

/** Up to `size` bcrypt threads, started on first use; a job goes to the least busy one. */
class BcryptPool {
  private readonly threads: BcryptThread[] = [];
  private nextId = 1;

  constructor(private readonly size: number) {}

  run(job: Job): Promise<string | boolean> {
    return new Promise((resolve, reject) => this.pick().run(this.nextId++, job, { resolve, reject }));
  }

  private pick(): BcryptThread {
    // A thread that failed is replaced: its jobs were rejected, later ones need not be.
    for (let i = this.threads.length - 1; i >= 0; i--) if (this.threads[i].dead) this.threads.splice(i, 1);
    const idle = this.threads.find((t) => t.pending.size === 0);
    if (idle) return idle;
    if (this.threads.length < this.size) {
      const thread = new BcryptThread();
      this.threads.push(thread);
      return thread;
    }
    return this.threads.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
  }
}

// One core stays with the event loop; at most 4 logins are hashed at once.
const pool = new BcryptPool(Math.max(1, Math.min(4, availableParallelism() - 1)));

export async function hashPassword(password: string, cost: number = DEFAULT_BCRYPT_COST): Promise<string> {
  return (await pool.run({ op: 'hash', password, cost })) as string;
}

export async function checkPassword(password: string, hash: string): Promise<boolean> {
  if (!hash) return false;
  return (await pool.run({ op: 'compare', password, hash })) as boolean;
}
