import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { Member } from '../../server/src';
import { memberMetrics } from './metrics';

/** etcd gives its health probe one second to get a linearizable answer. */
const HEALTH_TIMEOUT_MS = 1000;

export interface MetricsListener {
  host: string;
  port: number;
}

/**
 * Serves `/metrics` (Prometheus text format) and `/health` on every `--listen-metrics-urls`
 * listener, as etcd does, for scrapers and load-balancer probes.
 */
export async function startMetricsServers(
  member: Member,
  listeners: MetricsListener[],
): Promise<{ close(): Promise<void> }> {
  const registry = memberMetrics(member);
  const servers: Server[] = [];
  const close = () =>
    Promise.all(servers.map((s) => new Promise<void>((done) => s.close(() => done())))).then(() => undefined);
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      registry.metrics().then(
        (body) => reply(res, 200, registry.contentType, body),
        (err: Error) => reply(res, 500, 'text/plain; charset=utf-8', `${err.message}\n`),
      );
    } else if (path === '/health') {
      void checkHealth(member).then((healthy) => {
        // etcd answers a failed probe through Go's http.Error: status 503 and a trailing newline.
        if (healthy) reply(res, 200, 'text/plain; charset=utf-8', '{"health":"true"}');
        else reply(res, 503, 'text/plain; charset=utf-8', '{"health":"false"}\n', true);
      });
    } else {
      reply(res, 404, 'text/plain; charset=utf-8', '404 page not found\n', true);
    }
  };
  try {
    for (const l of listeners) {
      const server = createServer(handle);
      await new Promise<void>((ok, fail) => {
        server.once('error', fail);
        server.listen(l.port, l.host, () => ok());
      });
      servers.push(server);
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { close };
}

/**
 * Healthy as etcd 3.4 judges it: no alarm raised, a leader known, and a linearizable read
 * answered within a second.
 */
async function checkHealth(member: Member): Promise<boolean> {
  const status = member.status();
  if (status.errors.length > 0 || status.leader === '0') return false;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((done) => (timer = setTimeout(() => done(false), HEALTH_TIMEOUT_MS)));
  const read = member.range({ key: Buffer.from('health') }).then(
    () => true,
    () => false,
  );
  try {
    return await Promise.race([read, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function reply(res: ServerResponse, status: number, type: string, body: string, nosniff = false): void {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  if (nosniff) res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}
