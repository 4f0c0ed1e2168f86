export { createLogger } from './logger';
export type { Logger, LogFields, LoggerConfig } from './logger';
