// Auth for benchmarks: `bench --user name:password` authenticates every connection (simple
// tokens are member-local, so each connection asks its own member) and sends the token with
// each request; `bench:compare --auth` turns auth on in each system before the runs, with a
// non-root user whose role may read and write exactly the bench's key space.
import { CallError, Conn } from './conn';
import { etcdType } from './proto';

/** The user the compare harness creates and benchmarks as. */
export const BENCH_USER = 'bench:bench-password';
const ROOT_PASSWORD = 'root-password';

function call(conn: Conn, method: string, request: string, fields: Record<string, unknown>): Promise<Buffer> {
  const t = etcdType(request);
  return conn.unary(
    `/etcdserverpb.Auth/${method}`,
    Buffer.from(t.encode(t.fromObject(fields)).finish()),
    (b) => b,
  );
}

export function splitUser(user: string): { name: string; password: string } {
  const i = user.indexOf(':');
  if (i <= 0) throw new Error(`--user must be name:password (got ${JSON.stringify(user)})`);
  return { name: user.slice(0, i), password: user.slice(i + 1) };
}

/**
 * Gets a token for `user` from the connection's member and attaches it to the connection's
 * later calls. Tries again for a while: right after auth was enabled through another member,
 * this one may not have applied it yet.
 */
export async function authenticate(conn: Conn, user: string, timeoutMs = 10000): Promise<void> {
  const { name, password } = splitUser(user);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await call(conn, 'Authenticate', 'AuthenticateRequest', { name, password });
      const { token } = etcdType('AuthenticateResponse').decode(res) as unknown as { token: string };
      if (!token) throw new Error(`${conn.endpoint}: Authenticate answered no token (is auth enabled?)`);
      conn.useToken(token);
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/**
 * Turns auth on through `conn`: a root user, then the bench user with readwrite on the bench's
 * keys (zero-padded decimals, so the range ["0", ":") holds them all), then AuthEnable.
 */
export async function enableBenchAuth(conn: Conn): Promise<void> {
  const { name, password } = splitUser(BENCH_USER);
  const steps: [string, string, Record<string, unknown>][] = [
    ['UserAdd', 'AuthUserAddRequest', { name: 'root', password: ROOT_PASSWORD }],
    ['UserGrantRole', 'AuthUserGrantRoleRequest', { user: 'root', role: 'root' }],
    ['RoleAdd', 'AuthRoleAddRequest', { name }],
    [
      'RoleGrantPermission',
      'AuthRoleGrantPermissionRequest',
      { name, perm: { permType: 2, key: Buffer.from('0'), range_end: Buffer.from(':') } },
    ],
    ['UserAdd', 'AuthUserAddRequest', { name, password }],
    ['UserGrantRole', 'AuthUserGrantRoleRequest', { user: name, role: name }],
    ['AuthEnable', 'AuthEnableRequest', {}],
  ];
  for (const [method, request, fields] of steps) {
    try {
      await call(conn, method, request, fields);
    } catch (e) {
      const detail = e instanceof CallError ? e.details : String(e);
      throw new Error(`enabling auth on ${conn.endpoint}: ${method} failed: ${detail}`, { cause: e });
    }
  }
}
