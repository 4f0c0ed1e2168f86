import { runCtl } from './src/cli';

void runCtl(process.argv.slice(2)).then((code) => (process.exitCode = code));
