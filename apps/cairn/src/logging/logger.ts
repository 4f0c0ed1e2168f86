// A small structured logger on pino that writes JSON lines shaped like etcd's zap
// logger: {"level":"info","ts":"2024-01-02T03:04:05.678Z","msg":"...", ...fields},
// so log scrapers written for etcd keep working. Used for both --logger values.
import pino, { DestinationStream, Level } from 'pino';

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
  /** Writes out anything buffered (file outputs); call before exiting. */
  flush(): void;
}

/** The part of CairnConfig the logger needs. */
export interface LoggerConfig {
  logLevel: string;
  logOutputs: readonly string[];
}

// zap has dpanic/panic between error and fatal; pino's nearest threshold is fatal.
const PINO_LEVEL: Record<string, Level> = {
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  error: 'error',
  dpanic: 'fatal',
  panic: 'fatal',
  fatal: 'fatal',
};

function destination(output: string): DestinationStream {
  // 'default' is stderr, as for etcd outside systemd.
  if (output === 'default' || output === 'stderr') return pino.destination({ fd: 2, sync: true });
  if (output === 'stdout') return pino.destination({ fd: 1, sync: true });
  return pino.destination({ dest: output, sync: false, append: true, mkdir: true });
}

export function createLogger(config: LoggerConfig, stream?: DestinationStream): Logger {
  const outputs = config.logOutputs.length > 0 ? config.logOutputs : ['default'];
  const level = PINO_LEVEL[config.logLevel] ?? 'info';
  const target =
    stream ??
    (outputs.length === 1
      ? destination(outputs[0])
      : pino.multistream(outputs.map((o) => ({ stream: destination(o), level }))));
  const root = pino(
    {
      level,
      base: undefined, // no pid/hostname: etcd's lines do not carry them
      messageKey: 'msg',
      timestamp: () => `,"ts":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
    },
    target,
  );
  return wrap(root);
}

function wrap(p: pino.Logger): Logger {
  const at =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (msg: string, fields?: LogFields): void => {
      if (fields) p[level](fields, msg);
      else p[level](msg);
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (fields) => wrap(p.child(fields)),
    flush: () => {
      try {
        p.flush();
      } catch {
        // a file destination that is not open yet has nothing buffered to flush
      }
    },
  };
}
