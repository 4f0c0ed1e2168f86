// Waiting for one's predecessors under a prefix to go, as etcd's Go concurrency package does.
import { AbortError, CairnClient } from '../../client/src';

/**
 * Resolves once no key under `prefix` has a create revision <= `maxCreateRevision`. Waits for the
 * newest such key (the direct predecessor) to be deleted, then looks again: each waiter wakes only
 * when its own predecessor goes, not whenever anyone releases.
 */
export async function waitDeletes(
  client: CairnClient,
  prefix: string,
  maxCreateRevision: number,
  signal?: AbortSignal,
): Promise<void> {
  for (;;) {
    if (signal?.aborted) throw new AbortError('aborted');
    const res = await client.kv.prefix(prefix, {
      sort: { target: 'CREATE', order: 'DESCEND' },
      limit: 1,
      maxCreateRevision,
      signal,
    });
    if (res.kvs.length === 0) return;
    await waitDelete(client, res.kvs[0].key, res.header.revision + 1, signal);
  }
}

async function waitDelete(
  client: CairnClient,
  key: Buffer,
  fromRevision: number,
  signal?: AbortSignal,
): Promise<void> {
  const watcher = client.watch(key, { startRevision: fromRevision, filters: ['noput'] });
  const onAbort = () => void watcher.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const ev of watcher) if (ev.type === 'delete') return;
    if (signal?.aborted) throw new AbortError('aborted');
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await watcher.cancel();
  }
}
