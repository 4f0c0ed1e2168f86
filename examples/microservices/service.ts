// One example microservice (run as "orders" or "billing"): registers itself, discovers its peer,
// takes a shared lock to bump a shared counter, and follows a configuration key.
import 'reflect-metadata';
import { Injectable, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { IsString, MinLength } from 'class-validator';
import { CairnClient } from '../../libs/client/src';
import { CairnModule, CairnService, OnConfigChange, WithLock } from '../../libs/nestjs/src';

const [name, peer] = process.argv[2] === 'billing' ? ['billing', 'orders'] : ['orders', 'billing'];
const endpoints = (process.env.CAIRN_ENDPOINTS ?? '127.0.0.1:2379').split(',');

class Greeting {
  @IsString()
  @MinLength(1)
  text!: string;
}

@Injectable()
class Worker implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly client: CairnClient,
    private readonly cairn: CairnService,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(
      () => void this.tick().catch((e) => console.error(`${name}: ${e.message}`)),
      1000,
    );
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    const peers = await this.cairn.registry.discover(peer);
    console.log(`${name} sees ${peer}: ${peers.map((p) => p.address).join(', ') || 'none'}`);
    console.log(`${name} bumped the shared counter to ${await this.bump()}`);
  }

  @WithLock('examples/shared-lock')
  async bump(): Promise<number> {
    const n = Number((await this.client.kv.get('examples/counter'))?.valueString ?? '0') + 1;
    await this.client.kv.put('examples/counter', String(n));
    return n;
  }

  @OnConfigChange('examples/config/greeting', Greeting)
  onGreeting(greeting: Greeting | undefined): void {
    console.log(`${name} greeting is now: ${greeting?.text ?? '(unset)'}`);
  }
}

@Module({
  imports: [
    CairnModule.forRoot({
      endpoints,
      sessionTtl: 5,
      register: {
        service: name,
        instance: `${name}-${process.pid}`,
        address: `127.0.0.1:${process.pid}`,
        metadata: {},
      },
    }),
  ],
  providers: [Worker],
})
class AppModule {}

async function main() {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error', 'warn'] });
  app.enableShutdownHooks(); // SIGINT/SIGTERM: deregister, resign, revoke the session lease
  await app.init();
  console.log(`${name} started`);
}

void main();
