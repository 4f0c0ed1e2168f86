// ServiceRegistry: register, discover, follow the live set, deregister, and a killed instance leaving
// the set once its lease expires. Runs against both targets of test/support/targets.ts: 3-member etcd 3.4 and Cairn clusters.
import { CairnClient } from '../../libs/client/src';
import { ServiceInstance, ServiceRegistry } from '../../libs/recipes/src';
import { TARGET_KINDS, Target, startTarget } from '../support/targets';
import { killChildren, nodeChild } from './processes';

jest.setTimeout(90_000);

const names = (set: ServiceInstance[]) => set.map((i) => i.instance).sort();

describe.each(TARGET_KINDS)('ServiceRegistry against %s', (kind) => {
  let target: Target;
  let client: CairnClient;
  let registry: ServiceRegistry;

  beforeAll(async () => {
    target = await startTarget(kind);
    client = new CairnClient({ endpoints: target.endpoints });
    registry = new ServiceRegistry(client, { ttl: 5 });
  });
  afterAll(async () => {
    killChildren();
    client?.close();
    await target?.stop();
  });

  it('registers, discovers, streams the live set and deregisters', async () => {
    const live = registry.watch('orders');
    expect(await live.next()).toEqual({ value: [], done: false });
    const one = await registry.register({
      service: 'orders',
      instance: 'o1',
      address: '10.0.0.1:80',
      metadata: { zone: 'a' },
    });
    expect(names((await live.next()).value)).toEqual(['o1']);
    const two = await registry.register({
      service: 'orders',
      instance: 'o2',
      address: '10.0.0.2:80',
      metadata: {},
    });
    expect(names((await live.next()).value)).toEqual(['o1', 'o2']);
    const found = await registry.discover('orders');
    expect(found.find((i) => i.instance === 'o1')).toEqual({
      service: 'orders',
      instance: 'o1',
      address: '10.0.0.1:80',
      metadata: { zone: 'a' },
    });
    expect(await registry.discover('payments')).toEqual([]);
    await one.deregister();
    expect(names((await live.next()).value)).toEqual(['o2']);
    await two.deregister();
    expect(names((await live.next()).value)).toEqual([]);
    await live.return!();
  });

  it('drops an instance whose process was killed -9 once its lease expires, and watchers see it', async () => {
    const child = nodeChild(
      target.endpoints,
      `const r = new recipes.ServiceRegistry(c, { ttl: 2 });
       await r.register({ service: 'billing', instance: 'doomed', address: '127.0.0.1:1', metadata: {} });
       console.log('REGISTERED');`,
    );
    await child.waitFor(/REGISTERED/);
    const live = registry.watch('billing');
    expect(names((await live.next()).value)).toEqual(['doomed']);
    child.child.kill('SIGKILL');
    expect(names((await live.next()).value)).toEqual([]); // after the TTL, without any deregistration
    expect(await registry.discover('billing')).toEqual([]);
    await live.return!();
  });
});
