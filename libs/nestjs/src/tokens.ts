import { ModuleMetadata } from '@nestjs/common';
import { ClientOptions } from '../../client/src';
import { ServiceInstance } from '../../recipes/src';

export const CAIRN_OPTIONS = Symbol('CAIRN_OPTIONS');

export interface CairnModuleOptions extends ClientOptions {
  /** TTL in seconds of the module's session (locks, elections, the registration). Default 10. */
  sessionTtl?: number;
  /** Registered on application bootstrap and deregistered on shutdown. */
  register?: ServiceInstance;
  /** Key prefix of the service registry (default "services/"). */
  registryPrefix?: string;
}

export interface CairnModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  inject?: any[];
  useFactory: (...args: any[]) => CairnModuleOptions | Promise<CairnModuleOptions>;
}
