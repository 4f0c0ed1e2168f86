// Spawns a throw-away single-member etcd on free loopback ports, for tests that need a real peer.
import { ChildProcess, spawn } from 'child_process';
import { mkdtempSync, rmSync } from 'fs';
import { createServer } from 'net';
import { tmpdir } from 'os';
import * as path from 'path';

export interface EtcdProcess {
  /** host:port for gRPC clients. */
  endpoint: string;
  clientUrl: string;
  dataDir: string;
  child: ChildProcess;
  /** Everything etcd wrote to stderr so far (etcd 3.4 logs there). */
  log(): string;
  stop(): Promise<void>;
}

export interface EtcdOptions {
  bin?: string;
  name?: string;
  readyTimeoutMs?: number;
  extraArgs?: string[];
}

/** Asks the kernel for a free port; the tiny race until etcd binds it is acceptable in tests. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export async function startEtcd(opts: EtcdOptions = {}): Promise<EtcdProcess> {
  const bin = opts.bin ?? process.env.ETCD_BIN ?? 'etcd';
  const name = opts.name ?? 'contract';
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'cairn-etcd-'));
  // prettier-ignore
  const args = [
    '--name', name,
    '--data-dir', dataDir,
    '--listen-client-urls', clientUrl,
    '--advertise-client-urls', clientUrl,
    '--listen-peer-urls', peerUrl,
    '--initial-advertise-peer-urls', peerUrl,
    '--initial-cluster', `${name}=${peerUrl}`,
    ...(opts.extraArgs ?? []),
  ];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  // Keep only the tail: a long-running etcd can log a lot.
  const append = (d: Buffer) => (output = (output + d.toString()).slice(-256 * 1024));
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);

  let exited = false;
  const exitedP = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exitedP;
      clearTimeout(t);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };

  // etcd announces readiness on stderr once it has a leader and serves the client port.
  const timeoutMs = opts.readyTimeoutMs ?? 20000;
  const ready = await new Promise<boolean>((resolve) => {
    const deadline = setTimeout(() => resolve(false), timeoutMs);
    const check = () => {
      if (output.includes('ready to serve client requests')) {
        clearTimeout(deadline);
        resolve(true);
      }
    };
    child.stderr!.on('data', check);
    child.once('exit', () => (clearTimeout(deadline), resolve(false)));
    check();
  });
  if (!ready) {
    await stop();
    throw new Error(`etcd did not become ready within ${timeoutMs}ms:\n${output.slice(-4000)}`);
  }
  return { endpoint: `127.0.0.1:${clientPort}`, clientUrl, dataDir, child, log: () => output, stop };
}
