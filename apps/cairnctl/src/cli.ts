// cairnctl: etcdctl's offline snapshot verbs for Cairn's snapshot files, with etcdctl's flags,
// defaults, output and error texts ("Error: ..." on stderr, exit status 1).
import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { restoreSnapshot, snapshotStatus } from '../../../libs/server/src';
import { bootstrapProblem, parseInitialCluster, parseUrlList } from '../../cairn/src/config/urls';
import { OUTPUT_FORMATS, OutputFormat, formatStatus } from './status-format';

export interface CtlIo {
  out(text: string): void;
  err(text: string): void;
}

const processIo: CtlIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/** Runs one cairnctl command line; resolves with the exit status. */
export async function runCtl(argv: string[], io: CtlIo = processIo): Promise<number> {
  let action: (() => Promise<void>) | undefined;
  let failure: string | undefined;
  const parser = yargs()
    .scriptName('cairnctl')
    .command('snapshot', 'Manages Cairn snapshot files', (y) =>
      y
        .command(
          'status [filename..]',
          'Gets backend snapshot status of a given file',
          (c) =>
            c.option('write-out', {
              alias: 'w',
              type: 'string',
              default: 'simple',
              describe: 'set the output format (fields, json, simple, table)',
            }),
          (args) => {
            action = () => status(oneFile(args.filename, 'status'), args['write-out'], io);
          },
        )
        .command(
          'restore [filename..]',
          'Restores a Cairn member snapshot to a Cairn data directory',
          (c) =>
            c
              .option('data-dir', { type: 'string', default: '', describe: 'Path to the data directory' })
              .option('name', {
                type: 'string',
                default: 'default',
                describe: 'Human-readable name for this member',
              })
              .option('initial-cluster', {
                type: 'string',
                default: 'default=http://localhost:2380',
                describe: 'Initial cluster configuration for restore bootstrap',
              })
              .option('initial-cluster-token', {
                type: 'string',
                default: 'etcd-cluster',
                describe: 'Initial cluster token for the cluster during restore bootstrap',
              })
              .option('initial-advertise-peer-urls', {
                type: 'string',
                default: 'http://localhost:2380',
                describe: "List of this member's peer URLs to advertise to the rest of the cluster",
              })
              .option('skip-hash-check', {
                type: 'boolean',
                default: false,
                describe: 'Ignore snapshot integrity hash value',
              }),
          (args) => {
            const restoreArgs = {
              name: args.name,
              // etcd's default is ${name}.etcd; Cairn's member defaults to ${name}.cairn.
              dataDir: args['data-dir'] || `${args.name}.cairn`,
              initialCluster: args['initial-cluster'],
              token: args['initial-cluster-token'],
              advertisePeerUrls: args['initial-advertise-peer-urls'],
              skipHashCheck: args['skip-hash-check'],
            };
            action = () => restore(oneFile(args.filename, 'restore'), restoreArgs, io);
          },
        )
        .demandCommand(1, 'Specify a snapshot command: status or restore'),
    )
    .demandCommand(1, 'Specify a command')
    .strict()
    .help()
    .version(false)
    .fail((msg, err) => {
      failure = msg ?? err?.message;
    })
    .exitProcess(false);
  const help = await new Promise<string>((ok) =>
    parser.parse(argv, {}, (_err: unknown, _args: unknown, output: string) => ok(output)),
  );
  if (failure) {
    io.err(`Error: ${failure}\n`);
    return 1;
  }
  if (!action) {
    if (help) io.out(`${help}\n`);
    return 0;
  }
  try {
    await action();
    return 0;
  } catch (err) {
    io.err(`Error: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

function oneFile(files: unknown, verb: string): string {
  const list = (Array.isArray(files) ? files : []).map(String);
  if (list.length !== 1) throw new Error(`snapshot ${verb} requires exactly one argument`);
  return list[0];
}

async function status(file: string, format: string, io: CtlIo): Promise<void> {
  if (format === 'protobuf') throw new Error('protobuf not supported as output format');
  if (!(OUTPUT_FORMATS as readonly string[]).includes(format)) throw new Error('unsupported output format');
  io.out(formatStatus(snapshotStatus(readSnapshotFile(file, 'stat')), format as OutputFormat));
}

interface RestoreArgs {
  name: string;
  dataDir: string;
  initialCluster: string;
  token: string;
  advertisePeerUrls: string;
  skipHashCheck: boolean;
}

async function restore(file: string, args: RestoreArgs, io: CtlIo): Promise<void> {
  const cluster = parseInitialCluster(args.initialCluster);
  const problem = bootstrapProblem(args.name, cluster, parseUrlList(args.advertisePeerUrls), 'new');
  if (problem) throw new Error(problem);
  const identity = await restoreSnapshot(readSnapshotFile(file, 'open'), {
    name: args.name,
    dataDir: args.dataDir,
    initialCluster: Object.fromEntries(
      Object.entries(cluster).map(([name, urls]) => [name, urls.map((u) => u.url)]),
    ),
    initialClusterToken: args.token,
    skipHashCheck: args.skipHashCheck,
  });
  io.err(
    JSON.stringify({
      level: 'info',
      msg: 'restored snapshot',
      path: file,
      'data-dir': args.dataDir,
      'member-id': identity.memberId.toString(16),
      'cluster-id': identity.clusterId.toString(16),
    }) + '\n',
  );
}

/** The file's bytes; a missing file in Go's words, as etcdctl's `op` (stat, open) reports it. */
function readSnapshotFile(file: string, op: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new Error(`${op} ${file}: no such file or directory`, { cause: err });
    if (e.code === 'EISDIR') throw new Error(`read ${file}: is a directory`, { cause: err });
    throw err;
  }
}
