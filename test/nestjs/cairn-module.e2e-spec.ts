// CairnModule in real Nest application contexts against etcd 3.4: DI of the client, registration on
// bootstrap and deregistration on shutdown, configuration changes, @WithLock and @LeaderOnly across
// several application instances, and a clean shutdown (session lease revoked, watches closed).
// Runs against both targets of test/support/targets.ts: 3-member etcd 3.4 and Cairn clusters.
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { INestApplicationContext } from '@nestjs/common';
import { IsInt, Min } from 'class-validator';
import { CairnClient } from '../../libs/client/src';
import { CairnModule, CairnService, LeaderOnly, OnConfigChange, WithLock } from '../../libs/nestjs/src';
import { ServiceRegistry } from '../../libs/recipes/src';
import { TARGET_KINDS, Target, startTarget } from '../support/targets';

jest.setTimeout(90_000);

class Limits {
  @IsInt()
  @Min(1)
  rps!: number;
}

@Injectable()
class Worker {
  readonly limits: Array<number | undefined> = [];
  leaderRuns = 0;

  constructor(readonly client: CairnClient) {}

  @WithLock('nest-counter-lock')
  async increment(): Promise<void> {
    const n = Number((await this.client.kv.get('nest/counter'))?.valueString ?? '0');
    await new Promise((ok) => setImmediate(ok));
    await this.client.kv.put('nest/counter', String(n + 1));
  }

  @LeaderOnly('nest-leader')
  async leaderTask(): Promise<string> {
    this.leaderRuns++;
    return 'ran';
  }

  @OnConfigChange('nest/limits', Limits)
  onLimits(value: Limits | undefined): void {
    this.limits.push(value?.rps);
  }
}

const waitUntil = async (cond: () => boolean | Promise<boolean>) => {
  while (!(await cond())) await new Promise((ok) => setTimeout(ok, 10));
};

describe.each(TARGET_KINDS)('CairnModule against %s', (kind) => {
  let target: Target;
  let client: CairnClient;

  const startApp = async (instance: string, async = false): Promise<INestApplicationContext> => {
    const cairn = async
      ? CairnModule.forRootAsync({
          useFactory: async () => ({
            endpoints: target.endpoints,
            sessionTtl: 5,
            register: { service: 'nest-app', instance, address: `${instance}:80`, metadata: {} },
          }),
        })
      : CairnModule.forRoot({
          endpoints: target.endpoints,
          sessionTtl: 5,
          register: { service: 'nest-app', instance, address: `${instance}:80`, metadata: {} },
        });
    @Module({ imports: [cairn], providers: [Worker] })
    class AppModule {}
    const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    await app.init();
    return app;
  };

  beforeAll(async () => {
    target = await startTarget(kind);
    client = new CairnClient({ endpoints: target.endpoints });
  });
  afterAll(async () => {
    client?.close();
    await target?.stop();
  });

  it('injects the client, registers on bootstrap and deregisters on shutdown, revoking its lease', async () => {
    const app = await startApp('a1');
    const registry = new ServiceRegistry(client);
    expect((await registry.discover('nest-app')).map((i) => i.instance)).toEqual(['a1']);
    const cairn = app.get(CairnService);
    const lease = (await cairn.getSession()).leaseId;
    await app.get(CairnClient).kv.put('nest/di', 'ok');
    expect((await client.kv.get('nest/di'))?.valueString).toBe('ok');
    await app.close();
    expect(await registry.discover('nest-app')).toEqual([]);
    // Asked of the leader: LeaseLeases answers from the member's own lessor, which on a follower
    // may drop the lease a moment after the revoke returned (etcd 3.4 does the same).
    expect((await client.lease.timeToLive(lease)).ttl).toBe(-1);
  });

  it('delivers the current configuration and valid changes, skipping invalid ones', async () => {
    await client.kv.put('nest/limits', JSON.stringify({ rps: 5 }));
    const app = await startApp('cfg', true);
    const worker = app.get(Worker);
    expect(worker.limits).toEqual([5]);
    await client.kv.put('nest/limits', JSON.stringify({ rps: 0 })); // invalid: not delivered
    await client.kv.put('nest/limits', JSON.stringify({ rps: 7 }));
    await waitUntil(() => worker.limits.length === 2);
    await client.kv.delete('nest/limits');
    await waitUntil(() => worker.limits.length === 3);
    expect(worker.limits).toEqual([5, 7, undefined]);
    await app.close();
  });

  it('serialises @WithLock methods across application instances', async () => {
    await client.kv.put('nest/counter', '0');
    const apps = await Promise.all(['l1', 'l2', 'l3'].map((i) => startApp(i)));
    await Promise.all(apps.flatMap((app) => Array.from({ length: 5 }, () => app.get(Worker).increment())));
    expect((await client.kv.get('nest/counter'))?.valueString).toBe('15');
    await Promise.all(apps.map((a) => a.close()));
  });

  it('runs @LeaderOnly methods on the elected instance only, and fails over when it shuts down', async () => {
    const first = await startApp('p1');
    const firstCairn = first.get(CairnService);
    await waitUntil(() => firstCairn.isLeader('nest-leader'));
    const second = await startApp('p2');
    await waitUntil(async () => (await client.kv.prefix('nest-leader/')).count === 2);
    expect(await first.get(Worker).leaderTask()).toBe('ran');
    expect(await second.get(Worker).leaderTask()).toBeUndefined();
    expect(second.get(Worker).leaderRuns).toBe(0);
    await first.close(); // resigns
    const secondCairn = second.get(CairnService);
    await waitUntil(() => secondCairn.isLeader('nest-leader'));
    expect(await second.get(Worker).leaderTask()).toBe('ran');
    await second.close();
  });

  it('re-registers under a new session when its session is lost', async () => {
    const app = await startApp('phoenix');
    const cairn = app.get(CairnService);
    const lost = (await cairn.getSession()).leaseId;
    await client.lease.revoke(lost); // as if the lease expired during a partition
    await waitUntil(async () => {
      const kv = await client.kv.get('services/nest-app/phoenix');
      return kv !== undefined && kv.lease !== lost;
    });
    expect((await cairn.getSession()).leaseId).not.toBe(lost);
    await app.close();
    expect(await client.kv.get('services/nest-app/phoenix')).toBeUndefined();
  });
});
