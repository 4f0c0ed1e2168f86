// cairnctl snapshot status / restore: a snapshot saved with etcdctl from a Cairn member becomes a
// new 3-member cluster with every key, revision, compaction and lease of the old one. The same
// history is saved from etcd 3.4 and restored with `etcdctl snapshot restore` into a 3-member etcd
// cluster: both restored clusters must answer alike. Corrupt, truncated or misdirected restores
// are refused with etcdctl's errors.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeClusterId, computeMemberId } from '../../libs/server/src';
import { CtlResult, etcdctl } from '../etcdctl/ctl';
import { EtcdApi, connect, settle } from '../support/etcd-api';
import {
  FAST_RAFT,
  MemberKind,
  MemberProcess,
  REPO_ROOT,
  freePort,
  startCluster,
  startMember,
} from '../support/members';

jest.setTimeout(180_000);

function cairnctl(args: string[]): Promise<CtlResult> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/cairnctl'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => ok({ code: code ?? -1, stdout, stderr }));
  });
}

interface KvRow {
  key: string;
  value: string;
  create: string;
  mod: string;
  version: string;
  lease: string;
}

interface Observed {
  perMember: {
    revision: number;
    now: KvRow[];
    atFive: KvRow[];
    atFour: unknown;
  }[];
  ttl: string;
  nextRevision: number;
  reads: string[];
  revoke: string;
  leasedLeft: number[];
}

/** Every key with all its fields, as of now (serializable: any member answers from its state). */
async function everything(api: EtcdApi, revision = 0): Promise<KvRow[]> {
  const res = await api.kv.Range({
    key: Buffer.from([0]),
    range_end: Buffer.from([0]),
    revision,
    serializable: true,
  });
  return res.kvs.map((kv: Record<string, unknown>) => ({
    key: String(kv.key),
    value: String(kv.value),
    create: String(kv.create_revision),
    mod: String(kv.mod_revision),
    version: String(kv.version),
    lease: String(kv.lease),
  }));
}

describe('snapshot restore', () => {
  const work = mkdtempSync(join(tmpdir(), 'cairn-restore-'));
  const running: MemberProcess[] = [];
  const apis: EtcdApi[] = [];
  const seen: Partial<Record<MemberKind, Observed>> = {};

  afterAll(async () => {
    apis.forEach((a) => a.close());
    await Promise.all(running.map((m) => m.stop()));
    rmSync(work, { recursive: true, force: true });
  });

  const file = (kind: MemberKind) => join(work, `${kind}.snap`);

  /** Writes the history to a fresh member of `kind` and saves a snapshot of it with etcdctl. */
  async function saveHistory(
    kind: MemberKind,
  ): Promise<{ clusterId: string; revision: number; lease: string }> {
    const source = await startMember(kind, { extraArgs: FAST_RAFT });
    running.push(source);
    const api = connect(source.endpoint);
    apis.push(api);
    for (let i = 0; i < 3; i++) {
      for (const k of ['a', 'b', 'c'])
        await api.kv.Put({ key: Buffer.from(k), value: Buffer.from(`${k}${i}`) });
    }
    await api.kv.DeleteRange({ key: Buffer.from('b') });
    const grant = await etcdctl(source.endpoint, ['lease', 'grant', '600']);
    expect(grant.code).toBe(0);
    const lease = /lease ([0-9a-f]+) granted/.exec(grant.stdout)![1];
    expect((await etcdctl(source.endpoint, ['put', 'leased', 'v', `--lease=${lease}`])).code).toBe(0);
    await api.kv.Compact({ revision: 5, physical: true });
    const last = await api.kv.Put({ key: Buffer.from('z'), value: Buffer.from('last') });
    const save = await etcdctl(source.endpoint, ['snapshot', 'save', file(kind)]);
    expect(save.code).toBe(0);
    await source.stop();
    return { clusterId: String(last.header.cluster_id), revision: Number(last.header.revision), lease };
  }

  /** Restores the snapshot into three data dirs (etcdctl for etcd, cairnctl for Cairn) and starts them. */
  async function restoreCluster(kind: MemberKind, token: string) {
    const specs: { name: string; ports: { client: number; peer: number }; dataDir: string }[] = [];
    for (const name of ['m1', 'm2', 'm3'])
      specs.push({
        name,
        ports: { client: await freePort(), peer: await freePort() },
        dataDir: join(work, `${kind}-${name}`),
      });
    const peerUrl = (s: (typeof specs)[number]) => `http://127.0.0.1:${s.ports.peer}`;
    const initialCluster = specs.map((s) => `${s.name}=${peerUrl(s)}`).join(',');
    for (const s of specs) {
      // prettier-ignore
      const args = [
        'snapshot', 'restore', file(kind), '--name', s.name, '--data-dir', s.dataDir,
        '--initial-cluster', initialCluster, '--initial-cluster-token', token,
        '--initial-advertise-peer-urls', peerUrl(s),
      ];
      const res = kind === 'etcd' ? await etcdctl('127.0.0.1:1', args) : await cairnctl(args);
      expect(res.code).toBe(0);
      expect(res.stderr).toContain('restored snapshot');
    }
    const members = await Promise.all(
      specs.map((s) =>
        startMember(kind, {
          name: s.name,
          ports: s.ports,
          dataDir: s.dataDir,
          initialCluster,
          extraArgs: FAST_RAFT,
        }),
      ),
    );
    running.push(...members);
    const memberApis = members.map((m) => connect(m.endpoint));
    apis.push(...memberApis);
    return { members, apis: memberApis, memberIds: specs.map((s) => computeMemberId([peerUrl(s)], token)) };
  }

  /** What a restored cluster answers, with each server's own lease id replaced. */
  async function observe(kind: MemberKind): Promise<Observed> {
    const saved = await saveHistory(kind);
    const token = 'restored-cluster';
    const restored = await restoreCluster(kind, token);
    const unlease = (kvs: KvRow[]) => kvs.map((kv) => ({ ...kv, lease: kv.lease === '0' ? '0' : '<lease>' }));

    // New ids, derived from the restore flags as a first start derives them.
    const clusterId = computeClusterId(restored.memberIds).toString();
    expect(clusterId).not.toBe(saved.clusterId);
    const list = await restored.apis[0].cluster.MemberList({});
    expect(list.members.map((m: { ID: string }) => BigInt(m.ID)).sort()).toEqual(
      [...restored.memberIds].sort(),
    );

    const perMember = [];
    for (const [i, api] of restored.apis.entries()) {
      const status = await api.maintenance.Status({});
      expect(String(status.header.cluster_id)).toBe(clusterId);
      expect(BigInt(status.header.member_id)).toBe(restored.memberIds[i]);
      const old = await settle(api.kv.Range({ key: Buffer.from('a'), revision: 4, serializable: true }));
      perMember.push({
        revision: Number(status.header.revision) - saved.revision,
        now: unlease(await everything(api)),
        atFive: unlease(await everything(api, 5)),
        atFour: old.error,
      });
    }
    const ttl = await etcdctl(restored.members[1].endpoint, ['lease', 'timetolive', saved.lease, '--keys']);
    const next = await restored.apis[2].kv.Put({ key: Buffer.from('after'), value: Buffer.from('restore') });
    const reads = [];
    for (const api of restored.apis)
      reads.push(String((await api.kv.Range({ key: Buffer.from('after') })).kvs[0]?.value));
    const revoke = await etcdctl(restored.members[0].endpoint, ['lease', 'revoke', saved.lease]);
    const leasedLeft = [];
    for (const api of restored.apis)
      leasedLeft.push((await api.kv.Range({ key: Buffer.from('leased') })).kvs.length);
    return {
      perMember,
      ttl: ttl.stdout.replace(saved.lease, '<lease>').replace(/remaining\(\d+s\)/, 'remaining(<s>)'),
      nextRevision: Number(next.header.revision) - saved.revision,
      reads,
      revoke: revoke.stdout.replace(saved.lease, '<lease>'),
      leasedLeft,
    };
  }

  it('etcd 3.4: etcdctl snapshot restore into a new 3-member cluster', async () => {
    seen.etcd = await observe('etcd');
    // What etcd does, spelled out: revisions, history and compaction kept; the lease kept, with a full TTL.
    expect(seen.etcd.perMember[0].revision).toBe(0);
    expect(seen.etcd.perMember[0].atFour).toEqual({
      code: 11,
      details: 'etcdserver: mvcc: required revision has been compacted',
    });
    expect(seen.etcd.ttl).toBe(
      'lease <lease> granted with TTL(600s), remaining(<s>), attached keys([leased])\n',
    );
    expect(seen.etcd.leasedLeft).toEqual([0, 0, 0]);
  });

  it("Cairn: cairnctl snapshot restore into a new 3-member cluster answers as etcd's does", async () => {
    seen.cairn = await observe('cairn');
    expect(seen.cairn).toEqual(seen.etcd);
  });

  it('cairnctl snapshot status reads a snapshot', async () => {
    const snap = file('cairn');
    const json = await cairnctl(['snapshot', 'status', snap, '-w', 'json']);
    expect(json).toMatchObject({ code: 0, stderr: '' });
    const status = JSON.parse(json.stdout);
    const saved = seen.cairn!.perMember[0];
    expect(status).toEqual({
      hash: expect.any(Number),
      revision: Number(saved.now.find((kv) => kv.key === 'z')!.mod),
      totalKey: expect.any(Number),
      totalSize: readFileSync(snap).length - 32,
    });
    expect(status.totalKey).toBeGreaterThan(saved.now.length);
    const simple = await cairnctl(['snapshot', 'status', snap]);
    expect(simple.stdout).toMatch(
      new RegExp(`^${status.hash.toString(16)}, ${status.revision}, ${status.totalKey}, \\d+(\\.\\d)? kB\n$`),
    );
    const table = await cairnctl(['snapshot', 'status', snap, '-w', 'table']);
    // The hash column is as wide as the hash (printed without leading zeros, as etcdctl does;
    // apps/cairnctl/src/status-format.spec.ts checks the table byte for byte).
    const [, header, , row] = table.stdout.split('\n');
    expect(header).toMatch(/^\| +HASH +\| REVISION \| TOTAL KEYS \| TOTAL SIZE \|$/);
    expect(header.indexOf('| REVISION')).toBe(Math.max(4, status.hash.toString(16).length) + 3);
    expect(row).toMatch(new RegExp(`^\\| +${status.hash.toString(16)} \\| +${status.revision} \\|`));
  });

  it("restores a follower's snapshot of a 3-member cluster into a cluster of one", async () => {
    const cluster = await startCluster('cairn', 3, { extraArgs: FAST_RAFT });
    running.push(...cluster);
    const api = connect(cluster[0].endpoint);
    apis.push(api);
    for (let i = 0; i < 10; i++) await api.kv.Put({ key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`) });
    const follower = cluster.find((m) => m !== cluster[0])!;
    const followerApi = connect(follower.endpoint);
    apis.push(followerApi);
    await followerApi.kv.Range({ key: Buffer.from('k9') }); // it has applied every write
    const snap = join(work, 'follower.snap');
    expect((await etcdctl(follower.endpoint, ['snapshot', 'save', snap])).code).toBe(0);

    const ports = { client: await freePort(), peer: await freePort() };
    const own = `solo=http://127.0.0.1:${ports.peer}`;
    const dataDir = join(work, 'solo');
    // prettier-ignore
    const res = await cairnctl([
      'snapshot', 'restore', snap, '--name', 'solo', '--data-dir', dataDir,
      '--initial-cluster', own, '--initial-advertise-peer-urls', `http://127.0.0.1:${ports.peer}`,
    ]);
    expect(res.code).toBe(0);
    const solo = await startMember('cairn', { name: 'solo', ports, dataDir, initialCluster: own });
    running.push(solo);
    const soloApi = connect(solo.endpoint);
    apis.push(soloApi);
    expect((await soloApi.cluster.MemberList({})).members).toHaveLength(1);
    expect(await everything(soloApi)).toEqual(await everything(api));
    const put = await soloApi.kv.Put({ key: Buffer.from('k0'), value: Buffer.from('alone') });
    expect(String((await soloApi.kv.Range({ key: Buffer.from('k0') })).kvs[0].value)).toBe('alone');
    expect(Number(put.header.revision)).toBe(12);
  });

  it('refuses a corrupt or truncated file, an existing data dir and a name not in the cluster', async () => {
    const good = readFileSync(file('cairn'));
    const flipped = Buffer.from(good);
    flipped[100] ^= 0xff;
    writeFileSync(join(work, 'flipped.snap'), flipped);
    // Cut in the middle of the records (and not where a trailer could look present).
    const half = Math.floor(good.length / 2);
    writeFileSync(join(work, 'truncated.snap'), good.subarray(0, half % 512 === 32 ? half + 1 : half));
    const restoreTo = (snap: string, dir: string, name = 'm1') =>
      cairnctl([
        'snapshot',
        'restore',
        snap,
        '--name',
        name,
        '--data-dir',
        dir,
        '--initial-cluster',
        'm1=http://127.0.0.1:1',
        '--initial-advertise-peer-urls',
        'http://127.0.0.1:1',
      ]);

    const bad = await restoreTo(join(work, 'flipped.snap'), join(work, 'bad'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^Error: expected sha256 \[[\d ]+\], got \[[\d ]+\]\n$/);
    expect(existsSync(join(work, 'bad'))).toBe(false);

    const cut = await restoreTo(join(work, 'truncated.snap'), join(work, 'cut'));
    expect(cut).toMatchObject({
      code: 1,
      stderr: 'Error: snapshot missing hash but --skip-hash-check=false\n',
    });
    expect(existsSync(join(work, 'cut'))).toBe(false);
    // Skipping the hash check does not make a cut file readable.
    const skipped = await cairnctl([
      'snapshot',
      'restore',
      join(work, 'truncated.snap'),
      '--skip-hash-check',
      '--data-dir',
      join(work, 'skipped'),
    ]);
    expect(skipped.code).toBe(1);
    expect(skipped.stderr).toMatch(/^Error: corrupt snapshot/);
    expect(existsSync(join(work, 'skipped'))).toBe(false);

    mkdirSync(join(work, 'taken'));
    const taken = await restoreTo(file('cairn'), join(work, 'taken'));
    expect(taken).toMatchObject({ code: 1, stderr: `Error: data-dir "${join(work, 'taken')}" exists\n` });
    const stranger = await restoreTo(file('cairn'), join(work, 'stranger'), 'm9');
    expect(stranger).toMatchObject({
      code: 1,
      stderr: 'Error: couldn\'t find local name "m9" in the initial cluster configuration\n',
    });
    expect((await cairnctl(['snapshot', 'status', join(work, 'flipped.snap')])).code).toBe(1);
  });
});
