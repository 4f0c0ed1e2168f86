// `npm run bench -- <workload> [options]`: generate load against etcd v3 endpoints and print a summary.
import { runBench } from './src/bench';
import { parseBenchArgs } from './src/options';
import { formatResult } from './src/result';

async function main(): Promise<void> {
  const options = parseBenchArgs(process.argv.slice(2));
  const result = await runBench(options);
  process.stdout.write((options.json ? JSON.stringify(result) : formatResult(result)) + '\n');
  process.exitCode = result.total === 0 ? 1 : 0;
}

main().catch((e) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : e}\n`);
  process.exit(2);
});
