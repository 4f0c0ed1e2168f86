// Command-line options of `npm run bench`, parsed with yargs into a plain, validated object.
import yargs, { Argv } from 'yargs';
import { Transport, TRANSPORTS } from './conn';

export type Consistency = 'l' | 's';

export interface BenchOptions {
  workload: string;
  endpoints: string[];
  clients: number;
  conns: number;
  workers: number;
  /** Requests to send in total; ignored when duration is set. */
  total: number;
  /** Seconds to run for; 0 means "send `total` requests". */
  duration: number;
  keySize: number;
  valSize: number;
  keySpaceSize: number;
  sequentialKeys: boolean;
  consistency: Consistency;
  /** Fraction of reads in the mixed workload, 0..1. */
  readRatio: number;
  /** Puts per transaction in the txn workload. */
  txnOps: number;
  /** Streams watching every key in the watch workload. */
  watchers: number;
  /** Write every key of the key space once before timing reads. */
  prefill: boolean;
  json: boolean;
  transport: Transport;
  /** `name:password` to authenticate every connection with; '' for none. */
  user: string;
}

export const WORKLOAD_NAMES = ['put', 'range', 'txn', 'mixed', 'lease-keepalive', 'watch'] as const;

export const DEFAULTS: Omit<BenchOptions, 'workload'> = {
  endpoints: ['127.0.0.1:2379'],
  clients: 200,
  conns: 20,
  workers: 1,
  total: 100000,
  duration: 0,
  keySize: 8,
  valSize: 256,
  keySpaceSize: 10000,
  sequentialKeys: false,
  consistency: 'l',
  readRatio: 0.8,
  txnOps: 1,
  watchers: 200,
  prefill: true,
  json: false,
  transport: 'frames',
  user: '',
};

/** The options shared by `bench` and `bench:compare`, so both accept the same spellings. */
export function withLoadOptions<T>(y: Argv<T>) {
  return y
    .option('endpoints', {
      type: 'string',
      default: DEFAULTS.endpoints.join(','),
      describe: 'comma-separated host:port list',
    })
    .option('clients', {
      type: 'number',
      default: DEFAULTS.clients,
      describe: 'concurrent in-flight requests',
    })
    .option('conns', {
      type: 'number',
      default: DEFAULTS.conns,
      describe: 'gRPC connections; clients are spread round-robin',
    })
    .option('workers', {
      type: 'number',
      default: DEFAULTS.workers,
      describe: 'threads generating load (clients and conns are split)',
    })
    .option('total', { type: 'number', default: DEFAULTS.total, describe: 'requests to send' })
    .option('duration', {
      type: 'number',
      default: DEFAULTS.duration,
      describe: 'seconds to run (overrides --total)',
    })
    .option('key-size', { type: 'number', default: DEFAULTS.keySize })
    .option('val-size', { type: 'number', default: DEFAULTS.valSize })
    .option('key-space-size', { type: 'number', default: DEFAULTS.keySpaceSize })
    .option('sequential-keys', { type: 'boolean', default: DEFAULTS.sequentialKeys })
    .option('consistency', {
      choices: ['l', 's'] as const,
      default: DEFAULTS.consistency,
      describe: 'range: linearizable or serializable',
    })
    .option('read-ratio', {
      type: 'number',
      default: DEFAULTS.readRatio,
      describe: 'mixed: share of ranges (0..1)',
    })
    .option('txn-ops', { type: 'number', default: DEFAULTS.txnOps, describe: 'txn: puts per transaction' })
    .option('watchers', {
      type: 'number',
      default: DEFAULTS.watchers,
      describe: 'watch: streams watching every key',
    })
    .option('prefill', {
      type: 'boolean',
      default: DEFAULTS.prefill,
      describe: 'range/mixed: write the key space first',
    })
    .option('json', { type: 'boolean', default: DEFAULTS.json, describe: 'print the result as JSON' })
    .option('transport', {
      choices: TRANSPORTS,
      default: DEFAULTS.transport,
      describe: 'client: HTTP/2 frames of its own (frames), node:http2 (h2) or @grpc/grpc-js',
    })
    .option('user', {
      type: 'string',
      default: DEFAULTS.user,
      describe: 'name:password: authenticate each connection, send its token with each request',
    })
    .strict()
    .fail((msg, err) => {
      throw err ?? new Error(msg);
    });
}

/** Picks the load options out of parsed yargs output and checks they make sense together. */
export function loadOptionsFrom(argv: Record<string, unknown>, workload: string): BenchOptions {
  const o: BenchOptions = {
    workload,
    endpoints: String(argv.endpoints)
      .split(',')
      .map((e) => e.trim().replace(/^https?:\/\//, ''))
      .filter(Boolean),
    clients: argv.clients as number,
    conns: argv.conns as number,
    workers: argv.workers as number,
    total: argv.total as number,
    duration: argv.duration as number,
    keySize: argv['key-size'] as number,
    valSize: argv['val-size'] as number,
    keySpaceSize: argv['key-space-size'] as number,
    sequentialKeys: argv['sequential-keys'] as boolean,
    consistency: argv.consistency as Consistency,
    readRatio: argv['read-ratio'] as number,
    txnOps: argv['txn-ops'] as number,
    watchers: argv.watchers as number,
    prefill: argv.prefill as boolean,
    json: argv.json as boolean,
    transport: argv.transport as Transport,
    user: argv.user as string,
  };
  validate(o);
  return o;
}

export function validate(o: BenchOptions): void {
  const positiveInts: Array<keyof BenchOptions> = [
    'clients',
    'conns',
    'workers',
    'keySize',
    'keySpaceSize',
    'txnOps',
    'watchers',
  ];
  for (const k of positiveInts) {
    const v = o[k] as number;
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${kebab(k)} must be a positive integer (got ${v})`);
  }
  if (!Number.isInteger(o.valSize) || o.valSize < 0)
    throw new Error(`--val-size must be >= 0 (got ${o.valSize})`);
  if (!(o.duration >= 0)) throw new Error(`--duration must be >= 0 (got ${o.duration})`);
  if (o.duration === 0 && (!Number.isInteger(o.total) || o.total < 1))
    throw new Error(`--total must be a positive integer (got ${o.total})`);
  if (!(o.readRatio >= 0 && o.readRatio <= 1))
    throw new Error(`--read-ratio must be within 0..1 (got ${o.readRatio})`);
  if (o.endpoints.length === 0) throw new Error('--endpoints is empty');
  if (String(o.keySpaceSize - 1).length > o.keySize)
    throw new Error(`--key-size ${o.keySize} is too small for --key-space-size ${o.keySpaceSize}`);
  if (o.workers > o.clients) throw new Error('--workers cannot exceed --clients');
  if (o.user && !o.user.slice(1).includes(':')) throw new Error(`--user must be name:password`);
  // Their streams are opened without the connection's token.
  if (o.user && ['lease-keepalive', 'watch'].includes(o.workload))
    throw new Error(`--user is not supported by the ${o.workload} workload`);
  if (o.conns > o.clients) o.conns = o.clients; // an idle connection measures nothing
}

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());

/** Parses `bench <workload> [options]`. */
export function parseBenchArgs(args: string[], known: readonly string[] = WORKLOAD_NAMES): BenchOptions {
  const argv = withLoadOptions(yargs(args))
    .scriptName('bench')
    .usage('$0 <workload> [options]')
    .command('$0 <workload>', 'generate load against an etcd v3 endpoint', (y) =>
      y.positional('workload', { type: 'string', choices: known as string[], describe: 'what to send' }),
    )
    .help()
    .parseSync();
  return loadOptionsFrom(argv, argv.workload as string);
}
