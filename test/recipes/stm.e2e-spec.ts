// STM: atomic multi-key updates under contention, conflicts retried, for both isolation levels.
// Runs against both targets of test/support/targets.ts: 3-member etcd 3.4 and Cairn clusters.
import { CairnClient } from '../../libs/client/src';
import { Isolation, StmConflictError, stm } from '../../libs/recipes/src';
import { TARGET_KINDS, Target, startTarget } from '../support/targets';

jest.setTimeout(90_000);

describe.each(TARGET_KINDS)('STM against %s', (kind) => {
  let target: Target;
  let client: CairnClient;

  beforeAll(async () => {
    target = await startTarget(kind);
    client = new CairnClient({ endpoints: target.endpoints });
  });
  afterAll(async () => {
    client?.close();
    await target?.stop();
  });

  describe.each<Isolation>(['serializable', 'repeatable-read'])('%s', (isolation) => {
    it('keeps the total of concurrent transfers constant', async () => {
      const accounts = ['a', 'b', 'c', 'd'].map((n) => `${isolation}/acct/${n}`);
      for (const a of accounts) await client.kv.put(a, '100');
      const clients = Array.from({ length: 4 }, () => new CairnClient({ endpoints: target.endpoints }));
      await Promise.all(
        clients.map(async (c, w) => {
          for (let i = 0; i < 8; i++) {
            const from = accounts[(w + i) % 4];
            const to = accounts[(w + i + 1) % 4];
            await stm(
              c,
              async (tx) => {
                const f = Number(await tx.getString(from));
                const t = Number(await tx.getString(to));
                tx.put(from, String(f - 1));
                tx.put(to, String(t + 1));
              },
              { isolation },
            );
          }
        }),
      );
      clients.forEach((c) => c.close());
      const total = (await client.kv.prefix(`${isolation}/acct/`)).kvs.reduce(
        (s, kv) => s + Number(kv.valueString),
        0,
      );
      expect(total).toBe(400);
    });

    it('runs the function again when a key it read changed before the commit', async () => {
      const key = `${isolation}/conflict`;
      await client.kv.put(key, '1');
      let runs = 0;
      const result = await stm(
        client,
        async (tx) => {
          runs++;
          const v = Number(await tx.getString(key));
          if (runs === 1) await client.kv.put(key, '10'); // a concurrent writer
          tx.put(key, String(v + 1));
          return v;
        },
        { isolation },
      );
      expect(runs).toBe(2);
      expect(result).toBe(10);
      expect((await client.kv.get(key))?.valueString).toBe('11');
    });

    it('gives up with StmConflictError when every attempt conflicts', async () => {
      const key = `${isolation}/hot`;
      let n = 0;
      const attempt = stm(
        client,
        async (tx) => {
          await tx.get(key);
          await client.kv.put(key, String(n++));
          tx.put(`${isolation}/never`, 'x');
        },
        { isolation, maxAttempts: 3 },
      );
      await expect(attempt).rejects.toBeInstanceOf(StmConflictError);
      expect(await client.kv.get(`${isolation}/never`)).toBeUndefined();
    });
  });

  it('serializable reads see one snapshot even when another key changes in between', async () => {
    await client.kv.put('snap/x', '1');
    await client.kv.put('snap/y', '1');
    let runs = 0;
    const seen = await stm(client, async (tx) => {
      runs++;
      const x = await tx.getString('snap/x');
      if (runs === 1) await client.kv.put('snap/y', '2');
      const y = await tx.getString('snap/y');
      return [x, y];
    });
    // The first run read y at the snapshot ('1'); its commit failed because y changed; the retry sees '2'.
    expect(runs).toBe(2);
    expect(seen).toEqual(['1', '2']);
  });
});
