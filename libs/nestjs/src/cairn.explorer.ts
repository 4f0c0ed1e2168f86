// Finds the decorated methods of every provider on bootstrap and wires them to CairnService.
import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { randomUUID } from 'node:crypto';
import { CairnService } from './cairn.service';
import { LEADER_ONLY, ON_CONFIG_CHANGE, OnConfigChangeMeta, WITH_LOCK } from './decorators';
import { CAIRN_OPTIONS, CairnModuleOptions } from './tokens';

@Injectable()
export class CairnExplorer implements OnApplicationBootstrap {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly cairn: CairnService,
    @Inject(CAIRN_OPTIONS) private readonly options: CairnModuleOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.options.register) await this.cairn.register(this.options.register);
    const candidate = this.options.register?.instance ?? randomUUID();
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance;
      if (!instance || typeof instance !== 'object') continue;
      const proto = Object.getPrototypeOf(instance);
      for (const name of this.scanner.getAllMethodNames(proto)) {
        const method = proto[name];
        const lock = this.reflector.get<string>(WITH_LOCK, method);
        const election = this.reflector.get<string>(LEADER_ONLY, method);
        const config = this.reflector.get<OnConfigChangeMeta>(ON_CONFIG_CHANGE, method);
        if (lock || election) instance[name] = this.wrap(instance, method, lock, election, candidate);
        if (config) await this.cairn.watchConfig(config, (value, key) => method.call(instance, value, key));
      }
    }
  }

  private wrap(
    instance: object,
    method: (...a: any[]) => any,
    lock?: string,
    election?: string,
    candidate = '',
  ) {
    if (election) this.cairn.joinElection(election, candidate);
    const cairn = this.cairn;
    return async function (...args: any[]) {
      if (election) cairn.joinElection(election, candidate); // again after a lost session; else a no-op
      if (election && !cairn.isLeader(election)) return undefined;
      if (lock) return cairn.withLock(lock, () => method.apply(instance, args));
      return method.apply(instance, args);
    };
  }
}
