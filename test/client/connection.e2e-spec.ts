// Failover, safe retries, unknown write outcomes, deadlines, AbortSignal and username/password
// auth with token refresh, over real loopback faults (a TCP proxy)
// in front of one member of each target (test/support/targets.ts).
import {
  AbortError,
  AuthFailedError,
  CairnClient,
  ConnectionError,
  DeadlineExceededError,
  PermissionDeniedError,
  UnknownOutcomeError,
} from '../../libs/client/src';
import { createServer } from 'node:net';
import { freePort } from '../support/members';
import { TARGET_KINDS, Target, startTarget } from '../support/targets';
import { startProxy } from '../support/tcp-proxy';

jest.setTimeout(60_000);

describe.each(TARGET_KINDS)('client connection handling against %s', (kind) => {
  let target: Target;
  let direct: CairnClient;

  beforeAll(async () => {
    target = await startTarget(kind);
    direct = new CairnClient({ endpoints: target.endpoints });
  });
  afterAll(async () => {
    direct?.close();
    await target?.stop();
  });

  it('fails over from a dead endpoint for reads and for writes that never left', async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    const client = new CairnClient({ endpoints: [dead, ...target.endpoints] });
    for (let i = 0; i < 4; i++) {
      await client.kv.put(`fo/${i}`, 'v'); // every other call is first sent to the dead endpoint
      expect((await client.kv.get(`fo/${i}`))?.valueString).toBe('v');
    }
    client.close();
  });

  it('gives up with DeadlineExceededError (not an unknown outcome) when no endpoint is reachable', async () => {
    const client = new CairnClient({ endpoints: [`127.0.0.1:${await freePort()}`] });
    const read = await client.kv.get('x', { timeoutMs: 500 }).catch((e) => e);
    expect(read).toBeInstanceOf(DeadlineExceededError);
    expect(read.cause).toBeInstanceOf(ConnectionError);
    const write = await client.kv.put('x', 'y', { timeoutMs: 500 }).catch((e) => e);
    expect(write).toBeInstanceOf(DeadlineExceededError); // never sent, so not UnknownOutcomeError
    client.close();
  });

  it('does not call a write unknown when its endpoint never completed the connection', async () => {
    const silent = createServer(() => undefined); // accepts TCP, never speaks HTTP/2
    await new Promise<void>((ok) => silent.listen(0, '127.0.0.1', ok));
    const client = new CairnClient({
      endpoints: [`127.0.0.1:${(silent.address() as { port: number }).port}`],
    });
    const err = await client.kv.put('never', 'sent', { timeoutMs: 500 }).catch((e) => e);
    expect(err).toBeInstanceOf(DeadlineExceededError);
    client.close();
    silent.close();
  });

  it('surfaces a write whose answer was lost as UnknownOutcomeError, and never resends it', async () => {
    const proxy = await startProxy(target.endpoints[0]);
    const client = new CairnClient({ endpoints: [proxy.endpoint] });
    await client.kv.put('uo/warm', 'up'); // the connection is up
    const before = (await direct.kv.get('uo/k'))?.version ?? 0;
    proxy.swallowAnswers = true;
    const put = client.kv.put('uo/k', 'v', { timeoutMs: 60_000 });
    while (((await direct.kv.get('uo/k'))?.version ?? 0) === before)
      await new Promise((ok) => setTimeout(ok, 20));
    proxy.cut(); // the put was applied, but its answer never arrives
    const err = await put.catch((e) => e);
    expect(err).toBeInstanceOf(UnknownOutcomeError);
    expect(err.cause).toBeInstanceOf(ConnectionError);
    expect((await direct.kv.get('uo/k'))?.version).toBe(before + 1); // applied exactly once
    client.close();
    await proxy.close();
  });

  it('retries a read whose answer was lost on another endpoint', async () => {
    const proxy = await startProxy(target.endpoints[0]);
    // The other endpoint is another member: the read fails over from one member to the next.
    const client = new CairnClient({ endpoints: [proxy.endpoint, target.endpoints[1]] });
    await direct.kv.put('rr/k', 'v');
    await client.kv.get('rr/k'); // warms the proxied endpoint; the next call goes to the direct one
    await client.kv.get('rr/k');
    proxy.swallowAnswers = true;
    const read = client.kv.get('rr/k'); // sent through the proxy
    setImmediate(() => proxy.cut());
    expect((await read)?.valueString).toBe('v');
    client.close();
    await proxy.close();
  });

  it('aborts calls through an AbortSignal: a read with AbortError, a sent write as unknown', async () => {
    const proxy = await startProxy(target.endpoints[0]);
    const client = new CairnClient({ endpoints: [proxy.endpoint] });
    await client.kv.get('warm');
    proxy.swallowAnswers = true;
    const ctl = new AbortController();
    const read = client.kv.get('ab/k', { signal: ctl.signal });
    const write = client.kv.put('ab/k', 'v', { signal: ctl.signal });
    setImmediate(() => ctl.abort());
    await expect(read).rejects.toBeInstanceOf(AbortError);
    const err = await write.catch((e) => e);
    expect(err).toBeInstanceOf(UnknownOutcomeError);
    expect(err.cause).toBeInstanceOf(AbortError);
    await expect(client.kv.get('ab/k', { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
    client.close();
    await proxy.close();
  });
});

describe.each(TARGET_KINDS)('client auth against %s', (kind) => {
  let target: Target;

  beforeAll(async () => {
    target = await startTarget(kind);
  });
  afterAll(async () => {
    await target?.stop();
  });

  it('authenticates, sends the token, and refreshes it when the server forgets it', async () => {
    const admin = new CairnClient({ endpoints: target.endpoints });
    await admin.auth.addUser('root', 'rootpw');
    await admin.auth.grantRole('root', 'root');
    await admin.auth.addUser('app', 'apppw');
    await admin.auth.addRole('app-role');
    await admin.auth.grantPermission('app-role', 'READWRITE', 'app/', { prefix: true });
    await admin.auth.grantRole('app', 'app-role');
    await admin.auth.enable();
    admin.close();

    const root = new CairnClient({
      endpoints: target.endpoints,
      auth: { username: 'root', password: 'rootpw' },
    });
    const app = new CairnClient({
      endpoints: target.endpoints,
      auth: { username: 'app', password: 'apppw' },
    });
    await app.kv.put('app/k', 'v1');
    await expect(app.kv.put('other', 'v')).rejects.toBeInstanceOf(PermissionDeniedError);
    expect((await root.auth.rolePermissions('app-role'))[0].type).toBe('READWRITE');

    // Disabling and enabling auth drops every simple token: app's next call gets "invalid auth token".
    await root.auth.disable();
    await root.auth.enable();
    await app.kv.put('app/k', 'v2');
    expect((await app.kv.get('app/k'))?.valueString).toBe('v2');

    const wrong = new CairnClient({
      endpoints: target.endpoints,
      auth: { username: 'app', password: 'nope' },
    });
    await expect(wrong.kv.get('app/k')).rejects.toBeInstanceOf(AuthFailedError);
    await root.auth.disable();
    for (const c of [root, app, wrong]) c.close();
  });
});
