// Election: campaign, proclaim, resign, leader, observe; failover when the leader process is killed;
// interoperation with `etcdctl elect`. Runs against both targets of test/support/targets.ts: 3-member etcd 3.4 and Cairn clusters.
import { CairnClient } from '../../libs/client/src';
import { Election, Leader, NoLeaderElectedError, NotLeaderError, Session } from '../../libs/recipes/src';
import { TARGET_KINDS, Target, startTarget } from '../support/targets';
import { etcdctl, killChildren, nodeChild } from './processes';

jest.setTimeout(90_000);

const waitUntil = async (cond: () => Promise<boolean>) => {
  while (!(await cond())) await new Promise((ok) => setTimeout(ok, 10));
};

describe.each(TARGET_KINDS)('Election against %s', (kind) => {
  let target: Target;
  let client: CairnClient;
  const open: Array<{ close(): unknown }> = [];

  const newSession = async (ttl = 10) => {
    const c = new CairnClient({ endpoints: target.endpoints });
    const s = await Session.create(c, { ttl });
    open.push({ close: () => s.close().catch(() => undefined) }, c);
    return s;
  };

  beforeAll(async () => {
    target = await startTarget(kind);
    client = new CairnClient({ endpoints: target.endpoints });
  });
  afterAll(async () => {
    killChildren();
    for (const o of open.reverse()) await o.close();
    client?.close();
    await target?.stop();
  });

  it('elects in campaign order, proclaims, resigns, and is observed', async () => {
    const a = new Election(await newSession(), 'e1');
    const b = new Election(await newSession(), 'e1');
    await expect(a.leader()).rejects.toBeInstanceOf(NoLeaderElectedError);
    const observer = new Election(await newSession(), 'e1').observe();
    await a.campaign('a1');
    expect(a.key).toBe(`e1/${a.session.leaseId.toString(16)}`);
    let bLeads = false;
    const bCampaign = b.campaign('b1').then(() => (bLeads = true));
    await waitUntil(async () => (await client.kv.prefix('e1/')).count === 2);
    await a.proclaim('a2');
    expect((await b.leader()).value.toString()).toBe('a2');
    expect(bLeads).toBe(false);
    await a.resign();
    await bCampaign;
    expect((await a.leader()).key).toBe(b.key);
    await expect(a.proclaim('stale')).rejects.toBeInstanceOf(NotLeaderError);

    const seen: string[] = [];
    for await (const l of observer as AsyncIterable<Leader>) {
      seen.push(l.value.toString());
      if (seen.at(-1) === 'b1') break;
    }
    expect(seen).toEqual(['a1', 'a2', 'b1']);
    await b.resign();
  });

  it('fails over to the next candidate when the leader process is killed', async () => {
    const child = nodeChild(
      target.endpoints,
      `const s = await recipes.Session.create(c, { ttl: 2 });
       const e = new recipes.Election(s, 'failover');
       await e.campaign('child');
       console.log('LEADING');`,
    );
    await child.waitFor(/LEADING/);
    const e = new Election(await newSession(), 'failover');
    expect((await e.leader()).value.toString()).toBe('child');
    const campaign = e.campaign('survivor');
    child.child.kill('SIGKILL');
    await campaign; // the dead leader's lease expires, then we lead
    expect((await e.leader()).value.toString()).toBe('survivor');
    await e.resign();
  });

  it('interoperates with etcdctl elect: as leader, as candidate and as observer', async () => {
    const listener = etcdctl(target.endpoints, 'elect', '-l', 'shared-e');
    const leader = etcdctl(target.endpoints, 'elect', 'shared-e', 'from-etcdctl');
    await leader.waitFor(/^shared-e\/[0-9a-f]+\nfrom-etcdctl$/m);
    const e = new Election(await newSession(), 'shared-e');
    expect((await e.leader()).value.toString()).toBe('from-etcdctl');
    const campaign = e.campaign('from-ts');
    await waitUntil(async () => (await client.kv.prefix('shared-e/')).count === 2);
    leader.child.kill('SIGINT'); // etcdctl resigns by closing its session
    await campaign;
    await e.proclaim('proclaimed-by-ts');
    // etcdctl's observer re-reads the leader after a deletion, so it may skip straight to the proclamation.
    await listener.waitFor(/from-etcdctl[\s\S]*proclaimed-by-ts/);
    listener.child.kill('SIGINT');
    await e.resign();
  });
});
