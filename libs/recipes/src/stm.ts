// Software transactional memory over txn: reads are recorded, writes buffered, and the commit only
// succeeds if nothing read has changed since; on conflict the whole function runs again.
import { Bytes, CairnClient, Compare, Op, cmp, op, toBuffer } from '../../client/src';
import { StmConflictError } from './errors';

/**
 * - 'serializable': every read sees the snapshot at the revision of the first read; the commit fails
 *   if any key read changed after that revision.
 * - 'repeatable-read': each key is read at the latest revision the first time and then served from
 *   the cache; the commit fails if any key read changed since it was read.
 */
export type Isolation = 'serializable' | 'repeatable-read';

export interface StmOptions {
  isolation?: Isolation;
  /** Attempts before StmConflictError (default 20). */
  maxAttempts?: number;
}

export interface StmTx {
  get(key: Bytes): Promise<Buffer | undefined>;
  getString(key: Bytes): Promise<string | undefined>;
  put(key: Bytes, value: Bytes): void;
  delete(key: Bytes): void;
}

class Attempt implements StmTx {
  /** Key (latin1) → mod revision seen (0: absent) and value. */
  readonly reads = new Map<string, { key: Buffer; modRevision: number; value?: Buffer }>();
  readonly writes = new Map<string, { key: Buffer; value?: Buffer }>();
  private snapshot?: number;

  constructor(
    private readonly client: CairnClient,
    private readonly isolation: Isolation,
  ) {}

  async get(key: Bytes): Promise<Buffer | undefined> {
    const k = toBuffer(key);
    const id = k.toString('latin1');
    const written = this.writes.get(id);
    if (written) return written.value;
    const cached = this.reads.get(id);
    if (cached) return cached.value;
    const res = await this.client.kv.range(k, { revision: this.snapshot ?? 0 });
    if (this.isolation === 'serializable') this.snapshot ??= res.header.revision;
    const kv = res.kvs[0];
    this.reads.set(id, { key: k, modRevision: kv?.modRevision ?? 0, value: kv?.value });
    return kv?.value;
  }

  async getString(key: Bytes): Promise<string | undefined> {
    return (await this.get(key))?.toString();
  }

  put(key: Bytes, value: Bytes): void {
    const k = toBuffer(key);
    this.writes.set(k.toString('latin1'), { key: k, value: toBuffer(value) });
  }

  delete(key: Bytes): void {
    const k = toBuffer(key);
    this.writes.set(k.toString('latin1'), { key: k });
  }

  compares(): Compare[] {
    return [...this.reads.values()].map(
      (r) =>
        this.snapshot !== undefined
          ? cmp.mod(r.key, '<', this.snapshot + 1) // unchanged since the snapshot
          : cmp.mod(r.key, '==', r.modRevision), // unchanged since it was read
    );
  }

  ops(): Op[] {
    return [...this.writes.values()].map((w) => (w.value ? op.put(w.key, w.value) : op.delete(w.key)));
  }
}

/** Runs `fn` as one atomic transaction; returns its result once a commit succeeded. */
export async function stm<T>(
  client: CairnClient,
  fn: (tx: StmTx) => Promise<T>,
  options: StmOptions = {},
): Promise<T> {
  const maxAttempts = options.maxAttempts ?? 20;
  for (let i = 0; i < maxAttempts; i++) {
    const tx = new Attempt(client, options.isolation ?? 'serializable');
    const result = await fn(tx);
    const ops = tx.ops();
    if (ops.length === 0 && options.isolation === 'repeatable-read') return result;
    const res = await client.kv.txnOf(tx.compares(), ops, []);
    if (res.succeeded) return result;
  }
  throw new StmConflictError(`stm: still conflicting after ${maxAttempts} attempts`);
}
