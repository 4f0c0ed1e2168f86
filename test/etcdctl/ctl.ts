// Runs the real etcdctl (v3 API) against a member and normalizes what differs by design between
// two members (ids, ports, timings, client uuids), so Cairn's and etcd's outputs can be compared.
import { spawn } from 'node:child_process';

export interface CtlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** etcdctl 3.4 with ETCDCTL_API=3 against one endpoint; `input` is piped to stdin (txn). */
export function etcdctl(endpoint: string, args: string[], input?: string): Promise<CtlResult> {
  return new Promise((ok, fail) => {
    const child = spawn('etcdctl', ['--endpoints', endpoint, '--command-timeout=15s', ...args], {
      env: { ...process.env, ETCDCTL_API: '3' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    // etcdctl may exit on bad arguments before reading its stdin.
    child.stdin.on('error', () => undefined);
    child.on('close', (code) => ok({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/** Header ids are uint64 and overflow JS numbers: read them as decimal strings from the raw JSON. */
export function jsonIds(stdout: string): { clusterId: bigint; memberId: bigint; leader?: bigint } {
  const pick = (field: string) => {
    const m = new RegExp(`"${field}":(\\d+)`).exec(stdout);
    return m ? BigInt(m[1]) : undefined;
  };
  const clusterId = pick('cluster_id');
  const memberId = pick('member_id');
  if (clusterId === undefined || memberId === undefined) throw new Error(`no header ids in ${stdout}`);
  return { clusterId, memberId, leader: pick('leader') };
}

/** Parses etcdctl's JSON after replacing the uint64 ids with placeholders (they lose precision). */
export function parseJson(stdout: string): any {
  return JSON.parse(normalizeIds(stdout));
}

function normalizeIds(text: string): string {
  return text
    .replace(/"cluster_id":\d+/g, '"cluster_id":"<cluster>"')
    .replace(/"member_id":\d+/g, '"member_id":"<member>"')
    .replace(/"leader":\d+/g, '"leader":"<member>"')
    .replace(/"ClusterID" : \d+/g, '"ClusterID" : <cluster>')
    .replace(/"MemberID" : \d+/g, '"MemberID" : <member>');
}

/**
 * What two members must agree on: exit code, stdout with ids/endpoints replaced, and stderr reduced
 * to the error lines (the client's retry warning keeps only its gRPC error, without ts/uuid).
 */
export function normalize(r: CtlResult, endpoint: string): CtlResult {
  const ep = new RegExp(endpoint.replace(/\./g, '\\.'), 'g');
  const stderr = r.stderr
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      if (!l.startsWith('{')) return l;
      try {
        const j = JSON.parse(l);
        return `warn: ${j.error}`;
      } catch {
        return l;
      }
    })
    .join('\n');
  return {
    code: r.code,
    stdout: normalizeIds(r.stdout).replace(ep, '<endpoint>'),
    stderr: stderr.replace(ep, '<endpoint>'),
  };
}

export function b64(s: string): string {
  return Buffer.from(s).toString('base64');
}

export function unb64(s: string | undefined): string {
  return Buffer.from(s ?? '', 'base64').toString();
}
