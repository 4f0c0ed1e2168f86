export * from './config-watcher';
export * from './election';
export * from './errors';
export * from './mutex';
export * from './service-registry';
export * from './session';
export * from './stm';
