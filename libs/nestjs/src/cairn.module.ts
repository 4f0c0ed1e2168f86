import { DynamicModule, Global, Module, Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { CairnClient } from '../../client/src';
import { CairnExplorer } from './cairn.explorer';
import { CairnService } from './cairn.service';
import { CAIRN_OPTIONS, CairnModuleAsyncOptions, CairnModuleOptions } from './tokens';

const shared: Provider[] = [
  {
    provide: CairnClient,
    inject: [CAIRN_OPTIONS],
    useFactory: (o: CairnModuleOptions) => new CairnClient(o),
  },
  CairnService,
  CairnExplorer,
];

/** Provides CairnClient and CairnService (recipes) everywhere, and wires the Cairn decorators. */
@Global()
@Module({})
export class CairnModule {
  static forRoot(options: CairnModuleOptions): DynamicModule {
    return {
      module: CairnModule,
      imports: [DiscoveryModule],
      providers: [{ provide: CAIRN_OPTIONS, useValue: options }, ...shared],
      exports: [CairnClient, CairnService],
    };
  }

  static forRootAsync(options: CairnModuleAsyncOptions): DynamicModule {
    return {
      module: CairnModule,
      imports: [DiscoveryModule, ...(options.imports ?? [])],
      providers: [
        { provide: CAIRN_OPTIONS, inject: options.inject ?? [], useFactory: options.useFactory },
        ...shared,
      ],
      exports: [CairnClient, CairnService],
    };
  }
}
