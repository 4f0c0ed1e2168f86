// cairnctl snapshot status / restore: a snapshot saved with etcdctl from a Cairn member becomes a
// new 3-member cluster with every key, revision, compaction and lease of the old one, as etcd's
// `etcdctl snapshot restore` does; corrupt, truncated or misdirected restores are refused.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeClusterId, computeMemberId } from '../../libs/server/src';
import { CtlResult, etcdctl } from '../etcdctl/ctl';
import { EtcdApi, connect, settle } from '../support/etcd-api';
import { FAST_RAFT, MemberProcess, REPO_ROOT, freePort, startMember } from '../support/members';

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

/** Every key with all its fields, as of now (serializable: any member answers from its state). */
async function everything(api: EtcdApi, revision = 0) {
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

describe('cairnctl snapshot', () => {
  const work = mkdtempSync(join(tmpdir(), 'cairn-restore-'));
  const file = join(work, 'backup.snap');
  let source: MemberProcess | undefined;
  let restored: MemberProcess[] = [];
  let apis: EtcdApi[] = [];
  const before: {
    kvs?: Awaited<ReturnType<typeof everything>>;
    atFive?: Awaited<ReturnType<typeof everything>>;
    revision?: number;
    compacted?: number;
    lease?: string;
    clusterId?: string;
  } = {};

  afterAll(async () => {
    apis.forEach((a) => a.close());
    await Promise.all([source, ...restored].map((m) => m?.stop()));
    rmSync(work, { recursive: true, force: true });
  });

  it('saves a snapshot of a member with leases, history and a compaction; status reads it', async () => {
    source = await startMember('cairn', { extraArgs: FAST_RAFT });
    const api = connect(source.endpoint);
    try {
      for (let i = 0; i < 3; i++) {
        for (const k of ['a', 'b', 'c'])
          await api.kv.Put({ key: Buffer.from(k), value: Buffer.from(`${k}${i}`) });
      }
      await api.kv.DeleteRange({ key: Buffer.from('b') });
      const grant = await etcdctl(source.endpoint, ['lease', 'grant', '600']);
      expect(grant.code).toBe(0);
      before.lease = /lease ([0-9a-f]+) granted/.exec(grant.stdout)![1];
      expect((await etcdctl(source.endpoint, ['put', 'leased', 'v', `--lease=${before.lease}`])).code).toBe(
        0,
      );
      before.atFive = await everything(api, 5);
      await api.kv.Compact({ revision: 5, physical: true });
      before.compacted = 5;
      const last = await api.kv.Put({ key: Buffer.from('z'), value: Buffer.from('last') });
      before.revision = Number(last.header.revision);
      before.clusterId = String(last.header.cluster_id);
      before.kvs = await everything(api);
    } finally {
      api.close();
    }
    const save = await etcdctl(source.endpoint, ['snapshot', 'save', file]);
    expect(save.code).toBe(0);

    const size = readFileSync(file).length;
    const json = await cairnctl(['snapshot', 'status', file, '-w', 'json']);
    expect(json).toMatchObject({ code: 0, stderr: '' });
    const status = JSON.parse(json.stdout);
    expect(status).toEqual({
      hash: expect.any(Number),
      revision: before.revision,
      totalKey: expect.any(Number),
      totalSize: size - 32,
    });
    expect(status.totalKey).toBeGreaterThan(before.kvs.length);
    const simple = await cairnctl(['snapshot', 'status', file]);
    expect(simple.stdout).toBe(
      `${status.hash.toString(16)}, ${before.revision}, ${status.totalKey}, ${simple.stdout.split(', ')[3]}`,
    );
    expect(simple.stdout).toMatch(/, \d+(\.\d)? kB\n$/);
    const table = await cairnctl(['snapshot', 'status', file, '-w', 'table']);
    expect(table.stdout.split('\n')[1]).toBe('|   HASH   | REVISION | TOTAL KEYS | TOTAL SIZE |');
  });

  it('refuses a corrupt or truncated file, an existing data dir and a name not in the cluster', async () => {
    const good = readFileSync(file);
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
    const taken = await restoreTo(file, join(work, 'taken'));
    expect(taken).toMatchObject({ code: 1, stderr: `Error: data-dir "${join(work, 'taken')}" exists\n` });
    const stranger = await restoreTo(file, join(work, 'stranger'), 'm9');
    expect(stranger).toMatchObject({
      code: 1,
      stderr: 'Error: couldn\'t find local name "m9" in the initial cluster configuration\n',
    });
    expect((await cairnctl(['snapshot', 'status', join(work, 'flipped.snap')])).code).toBe(1);
  });

  it('restores into three data dirs that start as a new cluster with all the data', async () => {
    const token = 'restored-cluster';
    const specs: { name: string; ports: { client: number; peer: number }; dataDir: string }[] = [];
    for (const name of ['m1', 'm2', 'm3'])
      specs.push({
        name,
        ports: { client: await freePort(), peer: await freePort() },
        dataDir: join(work, name),
      });
    const peerUrl = (s: (typeof specs)[number]) => `http://127.0.0.1:${s.ports.peer}`;
    const initialCluster = specs.map((s) => `${s.name}=${peerUrl(s)}`).join(',');
    for (const s of specs) {
      const res = await cairnctl([
        'snapshot',
        'restore',
        file,
        '--name',
        s.name,
        '--data-dir',
        s.dataDir,
        '--initial-cluster',
        initialCluster,
        '--initial-cluster-token',
        token,
        '--initial-advertise-peer-urls',
        peerUrl(s),
      ]);
      expect(res.code).toBe(0);
      expect(res.stderr).toContain('restored snapshot');
    }
    // The --initial-* flags are ignored now: the restored data dirs decide the cluster.
    restored = await Promise.all(
      specs.map((s) =>
        startMember('cairn', {
          name: s.name,
          ports: s.ports,
          dataDir: s.dataDir,
          initialCluster: 'ignored=http://127.0.0.1:9',
          extraArgs: FAST_RAFT,
        }),
      ),
    );
    apis = restored.map((m) => connect(m.endpoint));

    const memberIds = specs.map((s) => computeMemberId([peerUrl(s)], token));
    const clusterId = computeClusterId(memberIds).toString();
    expect(clusterId).not.toBe(before.clusterId);
    const list = await apis[0].cluster.MemberList({});
    expect(list.members.map((m: { ID: string }) => BigInt(m.ID)).sort()).toEqual([...memberIds].sort());
    for (const [i, api] of apis.entries()) {
      const status = await api.maintenance.Status({});
      expect(String(status.header.cluster_id)).toBe(clusterId);
      expect(BigInt(status.header.member_id)).toBe(memberIds[i]);
      expect(Number(status.header.revision)).toBe(before.revision);
      expect(await everything(api)).toEqual(before.kvs);
      // History survives, and so does the compaction: older revisions stay compacted.
      expect(await everything(api, 5)).toEqual(before.atFive);
      const old = await settle(api.kv.Range({ key: Buffer.from('a'), revision: 4, serializable: true }));
      expect(old.error?.details).toBe('etcdserver: mvcc: required revision has been compacted');
    }

    const ttl = await etcdctl(restored[1].endpoint, ['lease', 'timetolive', before.lease!, '--keys']);
    expect(ttl.stdout).toMatch(/granted with TTL\(600s\), remaining\(\d+s\), attached keys\(\[leased\]\)/);
    const next = await apis[2].kv.Put({ key: Buffer.from('after'), value: Buffer.from('restore') });
    expect(Number(next.header.revision)).toBe(before.revision! + 1);
    for (const api of apis) {
      // A linearizable read on every member sees the write made through another.
      const got = await api.kv.Range({ key: Buffer.from('after') });
      expect(String(got.kvs[0]?.value)).toBe('restore');
    }
    // Revoking the restored lease deletes its key on every member.
    expect((await etcdctl(restored[0].endpoint, ['lease', 'revoke', before.lease!])).code).toBe(0);
    for (const api of apis) expect((await api.kv.Range({ key: Buffer.from('leased') })).kvs).toHaveLength(0);
  });
});
