// Entry point of one load thread (see bench.ts): connect, report ready, wait for go, run, report.
import { parentPort, workerData } from 'worker_threads';
import type { FromWorker, ToWorker, WorkerInput } from './bench';
import { runShare } from './runner';

const port = parentPort!;
const { options, share } = workerData as WorkerInput;
const send = (m: FromWorker) => port.postMessage(m);

const go = () =>
  new Promise<void>((resolve) => {
    port.once('message', (m: ToWorker) => m.type === 'go' && resolve());
    send({ type: 'ready' });
  });

runShare(options, share, go).then(
  (part) => send({ type: 'done', part }),
  (e) => send({ type: 'error', message: e instanceof Error ? e.message : String(e) }),
);
