// etcd 3.4's corruption checks on a real 3-member cluster with one member's RocksDB altered on
// disk: --experimental-initial-corrupt-check refuses to start it, and the leader's periodic
// --experimental-corrupt-check-time raises the CORRUPT alarm, after which writes fail with
// etcd's "etcdserver: corrupt cluster" (DATA_LOSS) and reads go on.
import { etcdctl } from '../etcdctl/ctl';
import { flipStoredValue } from '../support/corrupt-value';
import { EtcdApi, connect, settle } from '../support/etcd-api';
import { FAST_RAFT, MemberProcess, startCluster } from '../support/members';

jest.setTimeout(240_000);

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

interface Node {
  member: MemberProcess;
  api: EtcdApi;
}

/** Polls until `probe` yields a value (generous: the machine is shared). */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, ms = 90_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

async function leaderIndex(nodes: Node[]): Promise<number> {
  return eventually('a leader', async () => {
    const statuses = await Promise.all(nodes.map((n) => settle(n.api.maintenance.Status({}))));
    const i = statuses.findIndex(
      (s) => s.ok && String(s.ok.leader) !== '0' && String(s.ok.leader) === String(s.ok.header.member_id),
    );
    return i >= 0 ? i : undefined;
  });
}

describe('corruption checks', () => {
  let nodes: Node[] = [];
  /** The member altered on disk, and how it was first started (without the initial check). */
  let altered: { index: number; plain: MemberProcess } | undefined;
  beforeAll(async () => {
    const members = await startCluster('cairn', 3, {
      extraArgs: [...FAST_RAFT, '--experimental-corrupt-check-time', '500ms'],
    });
    nodes = members.map((member) => ({ member, api: connect(member.endpoint) }));
  });
  afterAll(async () => {
    for (const n of nodes) n.api.close();
    await Promise.all(nodes.map((n) => n.member.stop()));
  });

  async function restart(i: number, moreArgs: string[] = []): Promise<void> {
    nodes[i].api.close();
    const member = await nodes[i].member.restart(moreArgs);
    nodes[i] = { member, api: connect(member.endpoint) };
  }

  it('a consistent member passes the initial check; an altered one is refused at start', async () => {
    const leader = nodes[await leaderIndex(nodes)];
    for (let i = 0; i < 20; i++)
      await leader.api.kv.Put({ key: Buffer.from(`key-${i}`), value: Buffer.from(`value-${i}`) });
    const fi = ((await leaderIndex(nodes)) + 1) % 3;
    // Every member has applied the writes before one is stopped (linearizable read through each).
    for (const n of nodes) await n.api.kv.Range({ key: Buffer.from('key-19') });

    const plain = nodes[fi].member;
    await restart(fi, ['--experimental-initial-corrupt-check']);
    expect(nodes[fi].member.log()).toContain('initial corruption checking passed; no corruption');

    const checked = nodes[fi].member;
    nodes[fi].api.close();
    await checked.kill();
    nodes[fi].member = plain;
    altered = { index: fi, plain };
    await flipStoredValue(checked.dataDir, 'key-7');
    const refused = await checked.restart().then(
      () => 'started',
      (err: Error) => err.message,
    );
    expect(refused).toMatch(/[0-9a-f]+ found data inconsistency with peers/);
    expect(refused).toContain('found different hash values from remote peer');
  });

  it('the leader raises CORRUPT for the altered member; writes are refused as etcd does, reads go on', async () => {
    expect(altered).toBeDefined();
    const fi = altered!.index;
    // Started without the initial check, the altered member serves; the leader's check finds it.
    const member = await altered!.plain.restart();
    nodes[fi] = { member, api: connect(member.endpoint) };
    // The alteration is real: this member now serves a value nobody wrote.
    const served = await nodes[fi].api.kv.Range({ key: Buffer.from('key-7'), serializable: true });
    expect(String(served.kvs[0].value)).toBe('value-6');
    const corruptId = String((await nodes[fi].api.maintenance.Status({})).header.member_id);
    const alarms = await eventually('the CORRUPT alarm', async () => {
      const res = await nodes[(fi + 1) % 3].api.maintenance.Alarm({ action: 'GET', alarm: 'NONE' });
      return res.alarms.length > 0 ? res.alarms : undefined;
    });
    expect(alarms).toEqual([{ memberID: corruptId, alarm: 2 }]); // CORRUPT

    for (const n of nodes) {
      // Every member applies the alarm from the log: wait until each one refuses.
      const put = await eventually('a refused put', async () => {
        const res = await settle(n.api.kv.Put({ key: Buffer.from('after'), value: Buffer.from('x') }));
        return res.error ? res : undefined;
      });
      expect(put.error).toEqual({ code: 15, details: 'etcdserver: corrupt cluster' });
      const del = await settle(n.api.kv.DeleteRange({ key: Buffer.from('key-1') }));
      expect(del.error).toEqual({ code: 15, details: 'etcdserver: corrupt cluster' });
      const compact = await settle(n.api.kv.Compact({ revision: 2 }));
      expect(compact.error).toEqual({ code: 15, details: 'etcdserver: corrupt cluster' });
      const read = await n.api.kv.Range({ key: Buffer.from('key-3') });
      expect(String(read.kvs[0].value)).toBe('value-3');
      const status = await n.api.maintenance.Status({});
      expect(status.errors).toEqual([`memberID:${corruptId} alarm:CORRUPT `]);
    }
    const ctl = await etcdctl(nodes[0].member.endpoint, ['put', 'k', 'v']);
    expect(ctl.code).not.toBe(0);
    expect(ctl.stderr).toContain('Error: etcdserver: corrupt cluster');
    const grant = await etcdctl(nodes[1].member.endpoint, ['lease', 'grant', '60']);
    expect(grant.stderr).toContain('Error: failed to grant lease (etcdserver: corrupt cluster)');
    const list = await etcdctl(nodes[2].member.endpoint, ['alarm', 'list']);
    expect(list.stdout).toBe(`memberID:${corruptId} alarm:CORRUPT \n`);
  });
});
