// Starts both example services against CAIRN_ENDPOINTS (default 127.0.0.1:2379) and relays their
// output; Ctrl-C stops them cleanly. `npm run example`.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const children = ['orders', 'billing'].map((role) =>
  spawn(process.execPath, [join(__dirname, 'service.js'), role], { stdio: 'inherit' }),
);
const stop = () => children.forEach((c) => c.kill('SIGTERM'));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
