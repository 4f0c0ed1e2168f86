// ConfigWatcher: current value and later changes of a key or prefix, validated with class-validator;
// an invalid change is reported and not applied. Runs against both targets of test/support/targets.ts: 3-member etcd 3.4 and Cairn clusters.
import { IsInt, IsString, Max, Min } from 'class-validator';
import { CairnClient } from '../../libs/client/src';
import { ConfigChange, ConfigWatcher, InvalidConfig } from '../../libs/recipes/src';
import { TARGET_KINDS, Target, startTarget } from '../support/targets';

jest.setTimeout(60_000);

class PoolConfig {
  @IsString()
  host!: string;

  @IsInt()
  @Min(1)
  @Max(100)
  size!: number;
}

const next = <T>(w: ConfigWatcher<PoolConfig>, event: 'change' | 'invalid') =>
  new Promise<T>((ok) => w.once(event, ok));

describe.each(TARGET_KINDS)('ConfigWatcher against %s', (kind) => {
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

  it('loads the current value, applies valid changes and rejects invalid ones', async () => {
    await client.kv.put('cfg/pool', JSON.stringify({ host: 'db1', size: 10 }));
    const w = await new ConfigWatcher(client, { key: 'cfg/pool', schema: PoolConfig }).start();
    expect(w.value).toBeInstanceOf(PoolConfig);
    expect(w.value).toEqual({ host: 'db1', size: 10 });

    const changed = next<ConfigChange<PoolConfig>>(w, 'change');
    await client.kv.put('cfg/pool', JSON.stringify({ host: 'db2', size: 20 }));
    expect((await changed).value).toEqual({ host: 'db2', size: 20 });
    expect((await changed).previous).toEqual({ host: 'db1', size: 10 });

    const invalid = next<InvalidConfig>(w, 'invalid');
    await client.kv.put('cfg/pool', JSON.stringify({ host: 'db3', size: 1000 }));
    const report = await invalid;
    expect(Array.isArray(report.errors) && report.errors.map((e) => e.property)).toEqual(['size']);
    expect(w.value).toEqual({ host: 'db2', size: 20 }); // not applied

    const unparsable = next<InvalidConfig>(w, 'invalid');
    await client.kv.put('cfg/pool', '{not json');
    expect((await unparsable).errors).toBeInstanceOf(Error);

    const deleted = next<ConfigChange<PoolConfig>>(w, 'change');
    await client.kv.delete('cfg/pool');
    expect((await deleted).value).toBeUndefined();
    expect(w.value).toBeUndefined();
    await w.close();
  });

  it('follows every key under a prefix', async () => {
    await client.kv.put('pools/a', JSON.stringify({ host: 'a', size: 1 }));
    await client.kv.put('pools/bad', JSON.stringify({ host: 7, size: 1 }));
    const invalidAtStart: InvalidConfig[] = [];
    const w = new ConfigWatcher(client, { key: 'pools/', prefix: true, schema: PoolConfig });
    w.on('invalid', (i) => invalidAtStart.push(i));
    await w.start();
    expect([...w.values.keys()]).toEqual(['pools/a']);
    expect(invalidAtStart.map((i) => i.key)).toEqual(['pools/bad']);
    const changed = next<ConfigChange<PoolConfig>>(w, 'change');
    await client.kv.put('pools/b', JSON.stringify({ host: 'b', size: 2 }));
    expect((await changed).key).toBe('pools/b');
    expect([...w.values.keys()].sort()).toEqual(['pools/a', 'pools/b']);
    await w.close();
  });
});
