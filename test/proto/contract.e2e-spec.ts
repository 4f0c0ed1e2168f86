// Drives a real etcd 3.4 through our own proto/etcd files with @grpc/grpc-js, to show that
// requests encode and responses decode into the fields we expect. Numbers are decoded as
// decimal strings (longs: String), so 64-bit ids survive intact.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import * as path from 'path';
import { MemberProcess, startMember } from '../support/members';

jest.setTimeout(60000);

const PROTO_DIR = path.resolve(__dirname, '../../proto/etcd');

// The loader options this contract is validated with; servers and clients in Cairn use the same.
const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  bytes: Buffer,
  includeDirs: [PROTO_DIR],
};

type Client = grpc.Client & Record<string, any>;

/** Calls a unary method and resolves with the decoded response. */
function call<T = any>(client: Client, method: string, req: object): Promise<T> {
  return new Promise((resolve, reject) =>
    client[method](req, (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res))),
  );
}

/**
 * Buffers a stream's messages so none is lost between awaits (a flowing stream drops data that
 * nobody listens to), and hands them out one by one.
 */
function reader<T = any>(stream: grpc.ClientReadableStream<T> | grpc.ClientDuplexStream<any, T>) {
  const queue: T[] = [];
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  stream.on('data', (m: T) => (queue.push(m), wake?.()));
  stream.on('error', (e: Error) => ((failure = e), wake?.()));
  return async (ms = 5000): Promise<T> => {
    const deadline = Date.now() + ms;
    while (queue.length === 0) {
      if (failure) throw failure;
      if (Date.now() >= deadline) throw new Error('stream: no message in time');
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, deadline - Date.now());
      });
      clearTimeout(timer);
      wake = undefined;
    }
    return queue.shift()!;
  };
}

/** Ends a stream from our side; grpc-js reports that as a CANCELLED error, which we expect. */
function close(stream: grpc.ClientReadableStream<any> | grpc.ClientDuplexStream<any, any>) {
  stream.on('error', () => undefined);
  stream.cancel();
}

const b = (s: string) => Buffer.from(s);
const DECIMAL = /^[0-9]+$/;

describe('etcd v3 wire contract (proto/etcd against etcd 3.4)', () => {
  let etcd: MemberProcess;
  let kv: Client, watch: Client, lease: Client, cluster: Client, maint: Client, auth: Client;
  let lock: Client, election: Client;
  let memberId: string;

  beforeAll(async () => {
    etcd = await startMember('etcd', { name: 'contract' });
    const def = protoLoader.loadSync(
      ['etcdserverpb/rpc.proto', 'v3lockpb/v3lock.proto', 'v3electionpb/v3election.proto'],
      LOADER_OPTIONS,
    );
    const pkg = grpc.loadPackageDefinition(def) as any;
    const creds = grpc.credentials.createInsecure();
    const mk = (ctor: any) => new ctor(etcd.endpoint, creds) as Client;
    kv = mk(pkg.etcdserverpb.KV);
    watch = mk(pkg.etcdserverpb.Watch);
    lease = mk(pkg.etcdserverpb.Lease);
    cluster = mk(pkg.etcdserverpb.Cluster);
    maint = mk(pkg.etcdserverpb.Maintenance);
    auth = mk(pkg.etcdserverpb.Auth);
    lock = mk(pkg.v3lockpb.Lock);
    election = mk(pkg.v3electionpb.Election);
  });

  afterAll(async () => {
    for (const c of [kv, watch, lease, cluster, maint, auth, lock, election]) c?.close();
    await etcd?.stop();
  });

  it('Status and MemberList describe a one-member cluster', async () => {
    const st = await call(maint, 'Status', {});
    expect(st.version).toMatch(/^3\.4\./);
    expect(st.header.cluster_id).toMatch(DECIMAL);
    expect(st.header.cluster_id).not.toBe('0');
    memberId = st.header.member_id;
    expect(memberId).not.toBe('0');
    expect(st.leader).toBe(memberId); // alone, it leads
    expect(Number(st.raftIndex)).toBeGreaterThan(0);
    expect(Number(st.dbSize)).toBeGreaterThan(0);
    expect(st.isLearner).toBe(false);

    const ml = await call(cluster, 'MemberList', {});
    expect(ml.members).toHaveLength(1);
    expect(ml.members[0].ID).toBe(memberId);
    expect(ml.members[0].name).toBe('contract');
    expect(ml.members[0].clientURLs).toEqual([`http://${etcd.endpoint}`]);
    expect(ml.members[0].isLearner).toBe(false);
  });

  it('Put, Range and DeleteRange round-trip keys, values and revisions', async () => {
    const p1 = await call(kv, 'Put', { key: b('contract/a'), value: b('1') });
    const p2 = await call(kv, 'Put', { key: b('contract/a'), value: b('2'), prev_kv: true });
    expect(Number(p2.header.revision)).toBe(Number(p1.header.revision) + 1);
    expect(p2.prev_kv.value.toString()).toBe('1');
    await call(kv, 'Put', { key: b('contract/b'), value: b('x') });

    const one = await call(kv, 'Range', { key: b('contract/a') });
    expect(one.kvs).toHaveLength(1);
    const [a] = one.kvs;
    expect(Buffer.isBuffer(a.key)).toBe(true);
    expect(a.key.toString()).toBe('contract/a');
    expect(a.value.toString()).toBe('2');
    expect(a.version).toBe('2');
    expect(a.create_revision).toBe(p1.header.revision);
    expect(a.mod_revision).toBe(p2.header.revision);
    expect(a.lease).toBe('0');

    // Prefix range, sorted descending by key, serializable.
    const all = await call(kv, 'Range', {
      key: b('contract/'),
      range_end: b('contract0'),
      sort_order: 'DESCEND',
      sort_target: 'KEY',
      serializable: true,
    });
    expect(all.kvs.map((x: any) => x.key.toString())).toEqual(['contract/b', 'contract/a']);
    expect(all.count).toBe('2');

    const counted = await call(kv, 'Range', {
      key: b('contract/'),
      range_end: b('contract0'),
      count_only: true,
    });
    expect(counted.kvs).toEqual([]);
    expect(counted.count).toBe('2');

    // Read the past: at p1's revision the value was "1".
    const old = await call(kv, 'Range', { key: b('contract/a'), revision: p1.header.revision });
    expect(old.kvs[0].value.toString()).toBe('1');

    const del = await call(kv, 'DeleteRange', { key: b('contract/b'), prev_kv: true });
    expect(del.deleted).toBe('1');
    expect(del.prev_kvs[0].value.toString()).toBe('x');
  });

  it('Txn evaluates compares (target_union oneof) and runs nested ops', async () => {
    const put = await call(kv, 'Put', { key: b('txn/k'), value: b('v1') });
    const modRev = put.header.revision;
    const ok = await call(kv, 'Txn', {
      compare: [
        { key: b('txn/k'), target: 'MOD', result: 'EQUAL', mod_revision: modRev },
        { key: b('txn/k'), target: 'VALUE', result: 'EQUAL', value: b('v1') },
        { key: b('txn/missing'), target: 'VERSION', result: 'EQUAL', version: '0' },
      ],
      success: [
        { request_put: { key: b('txn/k'), value: b('v2') } },
        { request_range: { key: b('txn/k') } },
        {
          request_txn: {
            compare: [{ key: b('txn/k'), target: 'CREATE', result: 'GREATER', create_revision: '0' }],
            success: [{ request_put: { key: b('txn/nested'), value: b('n') } }],
          },
        },
      ],
      failure: [{ request_delete_range: { key: b('txn/k') } }],
    });
    expect(ok.succeeded).toBe(true);
    expect(Number(ok.header.revision)).toBe(Number(modRev) + 1); // one revision for the whole txn
    // With oneofs: true the decoder names the member that is set.
    expect(ok.responses.map((r: any) => r.response)).toEqual([
      'response_put',
      'response_range',
      'response_txn',
    ]);
    expect(ok.responses[1].response_range.kvs[0].value.toString()).toBe('v2');
    expect(ok.responses[2].response_txn.succeeded).toBe(true);
    expect(ok.responses[2].response_txn.responses[0].response).toBe('response_put');

    const nested = await call(kv, 'Range', { key: b('txn/nested') });
    expect(nested.kvs[0].mod_revision).toBe(ok.header.revision);

    // Stale mod revision: the failure branch runs.
    const stale = await call(kv, 'Txn', {
      compare: [{ key: b('txn/k'), target: 'MOD', result: 'EQUAL', mod_revision: modRev }],
      success: [{ request_put: { key: b('txn/k'), value: b('never') } }],
      failure: [{ request_range: { key: b('txn/k') } }],
    });
    expect(stale.succeeded).toBe(false);
    expect(stale.responses[0].response_range.kvs[0].value.toString()).toBe('v2');

    // A compare over a key range (range_end = 64) and NOT_EQUAL / LEASE targets encode too.
    const ranged = await call(kv, 'Txn', {
      compare: [
        { key: b('txn/'), range_end: b('txn0'), target: 'VERSION', result: 'GREATER', version: '0' },
        { key: b('txn/k'), target: 'LEASE', result: 'EQUAL', lease: '0' },
        { key: b('txn/k'), target: 'VALUE', result: 'NOT_EQUAL', value: b('zzz') },
      ],
    });
    expect(ranged.succeeded).toBe(true);
  });

  it("Compact removes history and older revisions then fail with etcd's error", async () => {
    const p = await call(kv, 'Put', { key: b('compact/k'), value: b('1') });
    await call(kv, 'Put', { key: b('compact/k'), value: b('2') });
    const c = await call(kv, 'Compact', { revision: p.header.revision, physical: true });
    expect(Number(c.header.revision)).toBeGreaterThan(Number(p.header.revision));
    await expect(
      call(kv, 'Range', { key: b('compact/k'), revision: String(Number(p.header.revision) - 1) }),
    ).rejects.toMatchObject({
      code: grpc.status.OUT_OF_RANGE,
      details: 'etcdserver: mvcc: required revision has been compacted',
    });
  });

  it('Watch creates a watcher, delivers an event with prev_kv, and cancels', async () => {
    const stream: grpc.ClientDuplexStream<any, any> = watch.Watch();
    try {
      const next = reader(stream);
      stream.write({ create_request: { key: b('watch/'), range_end: b('watch0'), prev_kv: true } });
      const created = await next();
      expect(created.created).toBe(true);
      const id = created.watch_id;
      expect(id).toMatch(DECIMAL);

      await call(kv, 'Put', { key: b('watch/x'), value: b('1') });
      const put2 = await call(kv, 'Put', { key: b('watch/x'), value: b('2') });
      const events: any[] = [];
      while (events.length < 2) {
        const msg = await next();
        expect(msg.watch_id).toBe(id);
        events.push(...msg.events);
      }
      expect(events.map((e) => e.type)).toEqual(['PUT', 'PUT']);
      expect(events[1].kv.value.toString()).toBe('2');
      expect(events[1].kv.mod_revision).toBe(put2.header.revision);
      expect(events[1].prev_kv.value.toString()).toBe('1');

      stream.write({ cancel_request: { watch_id: id } });
      const canceled = await next();
      expect(canceled.canceled).toBe(true);
      expect(canceled.watch_id).toBe(id);
    } finally {
      close(stream);
    }
  });

  it('Lease ids round-trip as 64-bit decimal strings through grant, keep-alive, TTL and revoke', async () => {
    // A client-chosen id above 2^53 proves no precision is lost on the way.
    const bigId = '9007199254740993'; // 2^53 + 1
    const g = await call(lease, 'LeaseGrant', { TTL: '60', ID: bigId });
    expect(g.ID).toBe(bigId);
    expect(g.TTL).toBe('60');
    expect(g.error).toBe('');

    const auto = await call(lease, 'LeaseGrant', { TTL: '30' });
    expect(auto.ID).toMatch(DECIMAL);
    expect(auto.ID).not.toBe('0');

    await call(kv, 'Put', { key: b('lease/k'), value: b('v'), lease: bigId });
    const ttl = await call(lease, 'LeaseTimeToLive', { ID: bigId, keys: true });
    expect(ttl.ID).toBe(bigId);
    expect(ttl.grantedTTL).toBe('60');
    expect(Number(ttl.TTL)).toBeGreaterThan(50);
    expect(ttl.keys.map((k: Buffer) => k.toString())).toEqual(['lease/k']);

    const leases = await call(lease, 'LeaseLeases', {});
    expect(leases.leases.map((l: any) => l.ID)).toEqual(expect.arrayContaining([bigId, auto.ID]));

    const ka: grpc.ClientDuplexStream<any, any> = lease.LeaseKeepAlive();
    try {
      const next = reader(ka);
      ka.write({ ID: bigId });
      const r = await next();
      expect(r.ID).toBe(bigId);
      expect(r.TTL).toBe('60');
    } finally {
      close(ka);
    }

    await call(lease, 'LeaseRevoke', { ID: bigId });
    await call(lease, 'LeaseRevoke', { ID: auto.ID });
    const gone = await call(lease, 'LeaseTimeToLive', { ID: bigId });
    expect(gone.TTL).toBe('-1');
    expect((await call(kv, 'Range', { key: b('lease/k') })).kvs).toEqual([]);
    await expect(call(lease, 'LeaseRevoke', { ID: bigId })).rejects.toMatchObject({
      code: grpc.status.NOT_FOUND,
      details: 'etcdserver: requested lease not found',
    });
  });

  it('Maintenance: Hash, HashKV, Alarm list and Snapshot', async () => {
    const h = await call(maint, 'Hash', {});
    expect(typeof h.hash).toBe('number'); // uint32 decodes as a JS number
    expect(h.header.member_id).toBe(memberId);

    const hk = await call(maint, 'HashKV', { revision: '0' });
    expect(typeof hk.hash).toBe('number');
    expect(hk.compact_revision).toMatch(DECIMAL);

    const alarms = await call(maint, 'Alarm', { action: 'GET', memberID: '0', alarm: 'NONE' });
    expect(alarms.alarms).toEqual([]);

    const snap: grpc.ClientReadableStream<any> = maint.Snapshot({});
    let size = 0;
    let last: any;
    for await (const chunk of snap) {
      size += chunk.blob.length;
      last = chunk;
    }
    expect(size).toBeGreaterThan(0);
    expect(last.remaining_bytes).toBe('0');
  });

  it('Auth: users and roles (auth stays disabled)', async () => {
    await call(auth, 'UserAdd', { name: 'alice', password: 'secret' });
    await call(auth, 'UserAdd', { name: 'bob', options: { no_password: true } });
    expect((await call(auth, 'UserList', {})).users).toEqual(['alice', 'bob']);

    await call(auth, 'RoleAdd', { name: 'reader' });
    await call(auth, 'RoleGrantPermission', {
      name: 'reader',
      perm: { permType: 'READ', key: b('cfg/'), range_end: b('cfg0') },
    });
    const role = await call(auth, 'RoleGet', { role: 'reader' });
    expect(role.perm).toHaveLength(1);
    expect(role.perm[0].permType).toBe('READ');
    expect(role.perm[0].key.toString()).toBe('cfg/');
    expect(role.perm[0].range_end.toString()).toBe('cfg0');

    await call(auth, 'UserGrantRole', { user: 'alice', role: 'reader' });
    expect((await call(auth, 'UserGet', { name: 'alice' })).roles).toEqual(['reader']);
    expect((await call(auth, 'RoleList', {})).roles).toEqual(['reader']);

    await call(auth, 'UserRevokeRole', { name: 'alice', role: 'reader' });
    await call(auth, 'RoleRevokePermission', { role: 'reader', key: b('cfg/'), range_end: b('cfg0') });
    await call(auth, 'RoleDelete', { role: 'reader' });
    await call(auth, 'UserDelete', { name: 'bob' });
    await call(auth, 'UserChangePassword', { name: 'alice', password: 'other' });
    expect((await call(auth, 'UserList', {})).users).toEqual(['alice']);
  });

  it('Lock and Unlock through v3lockpb', async () => {
    const l = await call(lease, 'LeaseGrant', { TTL: '30' });
    const held = await call(lock, 'Lock', { name: b('mutex'), lease: l.ID });
    expect(held.key.toString().startsWith('mutex/')).toBe(true);
    // The ownership key is an ordinary key bound to the lease.
    const owner = await call(kv, 'Range', { key: held.key });
    expect(owner.kvs[0].lease).toBe(l.ID);
    const un = await call(lock, 'Unlock', { key: held.key });
    expect(Number(un.header.revision)).toBeGreaterThan(Number(held.header.revision));
    expect((await call(kv, 'Range', { key: held.key })).kvs).toEqual([]);
    await call(lease, 'LeaseRevoke', { ID: l.ID });
  });

  it('Election Campaign, Proclaim, Leader, Observe and Resign through v3electionpb', async () => {
    const l = await call(lease, 'LeaseGrant', { TTL: '30' });
    const c = await call(election, 'Campaign', { name: b('elect'), lease: l.ID, value: b('first') });
    const leader = c.leader;
    expect(leader.name.toString()).toBe('elect');
    expect(leader.key.toString().startsWith('elect/')).toBe(true);
    expect(leader.lease).toBe(l.ID);
    expect(Number(leader.rev)).toBeGreaterThan(0);

    const observe: grpc.ClientReadableStream<any> = election.Observe({ name: b('elect') });
    try {
      const seen = await reader(observe)();
      expect(seen.kv.value.toString()).toBe('first');
      await call(election, 'Proclaim', { leader, value: b('second') });
      const now = await call(election, 'Leader', { name: b('elect') });
      expect(now.kv.value.toString()).toBe('second');
      expect(now.kv.key).toEqual(leader.key);
    } finally {
      close(observe);
    }
    await call(election, 'Resign', { leader });
    await expect(call(election, 'Leader', { name: b('elect') })).rejects.toMatchObject({
      details: 'election: no leader',
    });
    await call(lease, 'LeaseRevoke', { ID: l.ID });
  });
});
