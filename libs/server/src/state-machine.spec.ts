import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageChecksum, ImageKeys, SnapshotStaging } from '../../consensus/src';
import { emptyConfState } from '../../raft/src';
import { AlarmAction, AlarmType } from './etcd-types';
import { MEMBER_LOCAL_KEYS, loadIdentity } from './identity';
import { Member, MemberConfig } from './member';
import { stateMachineImage } from './snapshot-image';

const keys = new ImageKeys([...MEMBER_LOCAL_KEYS]);

jest.setTimeout(60_000);

describe('StateMachine.install: a member takes another state machine image and reopens on it', () => {
  const dirs: string[] = [];
  const config = (name: string): MemberConfig => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-sm-'));
    dirs.push(dir);
    return {
      name,
      dataDir: dir,
      initialCluster: { [name]: [`http://127.0.0.1:2380`] },
      initialClusterToken: `token-${name}`,
      maxRequestBytes: 1.5 * 1024 * 1024,
      maxTxnOps: 128,
      heartbeatIntervalMs: 10,
      electionTimeoutMs: 100,
    };
  };
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('reloads keys, revisions, leases, alarms and members; reads during the install see the old or the new state, whole', async () => {
    const source = await Member.start(config('a'));
    const target = await Member.start(config('b'));
    try {
      for (let i = 0; i < 2000; i++)
        await source.put({ key: Buffer.from(`key-${i}`), value: Buffer.from(`a-${i}`) });
      const lease = await source.leases.grant({ TTL: 600, ID: '0' });
      await source.put({ key: Buffer.from('leased'), value: Buffer.from('x'), lease: lease.ID });
      await source.compact({ revision: 1500, physical: true });
      await source.alarm({ action: AlarmAction.ACTIVATE, memberID: '1', alarm: AlarmType.CORRUPT });
      await target.put({ key: Buffer.from('key-1'), value: Buffer.from('b-1') });
      const targetIdentity = loadIdentity(target.store.engine);

      // The source's image, staged on the target as a transfer would.
      const index = BigInt(source.status().raftAppliedIndex);
      const staging = new SnapshotStaging(target.store.engine, keys);
      const writer = staging.begin();
      const sum = new ImageChecksum();
      for await (const records of stateMachineImage(source.store.engine, keys, index)) {
        for (const [k, v] of records) sum.add(k, v);
        writer.write(records);
      }
      const metadata = {
        index,
        term: 2n,
        confState: { ...emptyConfState(), voters: [source.identity.memberId] },
      };
      await writer.finish(metadata, sum.digest(), sum.records);

      const installing = target.stateMachine.install(staging, metadata);
      expect(target.stateMachine.replacing).toBeDefined();
      // Reads issued while the engine is being replaced wait, then see the new state whole.
      const during = await Promise.all(
        [1, 1000, 1999].map((i) => target.range({ key: Buffer.from(`key-${i}`), serializable: true })),
      );
      await installing;
      expect(target.stateMachine.replacing).toBeUndefined();
      expect(during.map((r) => r.kvs[0].value.toString())).toEqual(['a-1', 'a-1000', 'a-1999']);

      expect(target.store.revision).toBe(source.store.revision);
      expect(target.store.compactedRevision).toBe(1500);
      const rev = source.store.revision;
      expect((await target.hashKV({ revision: rev })).hash).toBe(
        (await source.hashKV({ revision: rev })).hash,
      );
      expect(target.leases.leases().leases.map((l) => String(l.ID))).toEqual([String(lease.ID)]);
      const ttl = await target.leases.timeToLive({ ID: lease.ID, keys: true });
      expect(ttl.keys.map((k) => Buffer.from(k).toString())).toEqual(['leased']);
      expect(target.status().errors).toEqual(['memberID:1 alarm:CORRUPT ']);
      expect(target.memberList().members.map((m) => m.ID)).toEqual([source.identity.memberId.toString()]);
      // What belongs to the target alone stays.
      expect(loadIdentity(target.store.engine)).toEqual(targetIdentity);
    } finally {
      await source.stop();
      await target.stop();
    }
  });

  it('an image is refused when it is not at the applied index its metadata names', async () => {
    const source = await Member.start(config('a'));
    try {
      await source.put({ key: Buffer.from('k'), value: Buffer.from('v') });
      const index = BigInt(source.status().raftAppliedIndex);
      const image = stateMachineImage(source.store.engine, keys, index + 1n);
      await expect(
        (async () => {
          for await (const chunk of image) void chunk;
        })(),
      ).rejects.toThrow(`snapshot image is at applied index ${index}, not ${index + 1n}`);
    } finally {
      await source.stop();
    }
  });
});
