/** Minimal logging interface; pino, console or a test spy all fit. */
export interface RaftLogger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

const noop = (): void => undefined;

export const silentLogger: RaftLogger = { debug: noop, info: noop, warn: noop, error: noop };
