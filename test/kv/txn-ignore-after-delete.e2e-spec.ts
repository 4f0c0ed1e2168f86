// A txn whose put keeps the value (or lease) of a key that a from-key delete earlier in the same
// txn removed. etcd 3.4's duplicate-key check skips from-key ranges, so the request reaches the
// apply, which panics: the member exits. Cairn refuses it with etcd's "key not found", changes
// nothing and serves on. (A bounded delete range over the key is etcd's "duplicate key" on both.)
import { EtcdApi, connect, settle } from '../support/etcd-api';
import { MemberProcess, startMember } from '../support/members';

jest.setTimeout(60_000);

const b = (s: string) => Buffer.from(s);
const deleteFromB = { request_delete_range: { key: b('b'), range_end: Buffer.from([0]) } };
const keepValueOfC = { request_put: { key: b('c'), ignore_value: true } };

describe('a txn that keeps the value of a key it deleted', () => {
  let member: MemberProcess | undefined;
  let api: EtcdApi | undefined;
  afterEach(async () => {
    api?.close();
    await member?.stop();
  });

  it('makes etcd 3.4 exit (why the differential test leaves such txns out)', async () => {
    member = await startMember('etcd');
    api = connect(member.endpoint);
    await api.kv.Put({ key: b('c'), value: b('1') });
    const exited = new Promise((ok) => member!.child.once('exit', ok));
    await settle(api.kv.Txn({ success: [deleteFromB, keepValueOfC] }));
    await exited;
    expect(member.child.exitCode).not.toBe(0);
    expect(member.log()).toContain('panic');
  });

  it('is refused by Cairn with etcd\'s "key not found", changing nothing', async () => {
    member = await startMember('cairn');
    api = connect(member.endpoint);
    const put = await api.kv.Put({ key: b('c'), value: b('1') });
    const revision = put.header.revision;
    const refused = { code: 3, details: 'etcdserver: key not found' };
    const txns = [
      { success: [deleteFromB, keepValueOfC] },
      { success: [deleteFromB, { request_put: { key: b('c'), value: b('2'), ignore_lease: true } }] },
      // The delete and the put in nested txns, on the failure branch.
      {
        compare: [{ key: b('c'), target: 0, result: 0, version: 7 }],
        failure: [{ request_txn: { success: [deleteFromB] } }, { request_txn: { success: [keepValueOfC] } }],
      },
    ];
    for (const txn of txns) expect((await settle(api.kv.Txn(txn))).error).toEqual(refused);
    const after = await api.kv.Range({ key: b('c') });
    expect(after.header.revision).toBe(revision);
    expect(after.kvs.map((kv: any) => kv.value.toString())).toEqual(['1']);
    // It serves on; the same txn with a value of its own is applied.
    const ok = await api.kv.Txn({ success: [deleteFromB, { request_put: { key: b('c'), value: b('3') } }] });
    expect(ok.succeeded).toBe(true);
    expect((await api.kv.Range({ key: b('c') })).kvs[0].value.toString()).toBe('3');
  });
});
