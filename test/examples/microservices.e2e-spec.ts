// The examples/microservices pair against etcd 3.4 and Cairn: they find each other, share the lock-guarded
// counter, follow the configuration key, and leave the registry when stopped.
import { join } from 'node:path';
import { CairnClient } from '../../libs/client/src';
import { ServiceRegistry } from '../../libs/recipes/src';
import { MemberKind, MemberProcess, REPO_ROOT, startMember } from '../support/members';
import { killChildren, run } from '../recipes/processes';

jest.setTimeout(60_000);

describe.each<MemberKind>(['etcd', 'cairn'])('examples/microservices against %s', (kind) => {
  let member: MemberProcess;
  let client: CairnClient;

  beforeAll(async () => {
    member = await startMember(kind);
    client = new CairnClient({ endpoints: [member.endpoint] });
  });
  afterAll(async () => {
    killChildren();
    client?.close();
    await member?.stop();
  });

  it('register, discover each other, follow the configuration and deregister on shutdown', async () => {
    const example = run(process.execPath, [join(REPO_ROOT, 'dist/examples/microservices/run.js')], {
      CAIRN_ENDPOINTS: member.endpoint,
    });
    await example.waitFor(/orders sees billing: 127\.0\.0\.1:\d+/);
    await example.waitFor(/billing sees orders: 127\.0\.0\.1:\d+/);
    await client.kv.put('examples/config/greeting', JSON.stringify({ text: 'hello' }));
    await example.waitFor(/orders greeting is now: hello/);
    await example.waitFor(/billing greeting is now: hello/);
    await example.waitFor(/(orders|billing) bumped the shared counter to [2-9]/);
    example.child.kill('SIGTERM');
    expect(await example.exited).toBe(0);
    const registry = new ServiceRegistry(client);
    expect(await registry.discover('orders')).toEqual([]);
    expect(await registry.discover('billing')).toEqual([]);
  });
});
