// Maintenance through etcdctl 3.4: endpoint hashkv, alarm list / disarm, defrag, and the NOSPACE
// alarm of --quota-backend-bytes. Cairn and a real etcd 3.4 run with the same flags and the same
// command sequence; outputs must match once ids and endpoints are normalized. Hash values and the
// number of puts that fit differ by design (different storage).
import { MemberProcess, startMember } from '../support/members';
import { CtlResult, etcdctl, normalize } from '../etcdctl/ctl';
import { connect } from '../support/etcd-api';

jest.setTimeout(120_000);

const QUOTA = ['--quota-backend-bytes', String(256 * 1024)];
const NOSPACE_ERROR = 'Error: etcdserver: mvcc: database space exceeded';
const VALUE = 'x'.repeat(2000);

let cairn: MemberProcess;
let etcd: MemberProcess;

beforeAll(async () => {
  const started = await Promise.allSettled([
    startMember('cairn', { extraArgs: QUOTA }),
    startMember('etcd', { extraArgs: QUOTA }),
  ]);
  if (started[0].status === 'fulfilled') cairn = started[0].value;
  if (started[1].status === 'fulfilled') etcd = started[1].value;
  for (const s of started) if (s.status === 'rejected') throw s.reason;
});

afterAll(async () => {
  await Promise.all([cairn?.stop(), etcd?.stop()]);
});

/** etcdctl's output with the member ids of alarms replaced too. */
function norm(r: CtlResult, endpoint: string): CtlResult {
  const n = normalize(r, endpoint);
  const ids = (s: string) => s.replace(/memberID:\d+/g, 'memberID:<member>');
  return { code: n.code, stdout: ids(n.stdout), stderr: ids(n.stderr) };
}

/** Runs one command on both members, expects the same normalized result, returns Cairn's. */
async function both(args: string[]): Promise<CtlResult> {
  const [c, e] = await Promise.all([etcdctl(cairn.endpoint, args), etcdctl(etcd.endpoint, args)]);
  expect({ args, ...norm(c, cairn.endpoint) }).toEqual({ args, ...norm(e, etcd.endpoint) });
  return c;
}

const hashOf = async (m: MemberProcess): Promise<string> => {
  const r = await etcdctl(m.endpoint, ['endpoint', 'hashkv']);
  expect(r.code).toBe(0);
  const [endpoint, hash] = r.stdout.trim().split(', ');
  expect(endpoint).toBe(m.endpoint);
  return hash;
};

const revisionOf = async (m: MemberProcess): Promise<number> => {
  const r = await etcdctl(m.endpoint, ['endpoint', 'status', '-w', 'json']);
  return Number(/"revision":(\d+)/.exec(r.stdout)![1]);
};

/** Puts 2 kB values until the member refuses one; returns how many it took. */
async function fill(m: MemberProcess): Promise<number> {
  for (let i = 0; i < 2000; i++) {
    const r = await etcdctl(m.endpoint, ['put', `k${i}`, VALUE]);
    if (r.code !== 0) {
      expect(r.stderr).toContain(NOSPACE_ERROR);
      return i;
    }
  }
  throw new Error('the quota was never reached');
}

describe('etcdctl endpoint hashkv', () => {
  it('hashes an empty store as etcd does', async () => {
    const r = await both(['endpoint', 'hashkv']);
    expect(r.stdout).toBe(`${cairn.endpoint}, 1084519789\n`);
  });

  it('keeps the hash across a restart and changes it with a write', async () => {
    await both(['put', 'h', '1']);
    const before = await hashOf(cairn);
    cairn = await cairn.restart();
    expect(await hashOf(cairn)).toBe(before);
    await both(['put', 'h', '2']);
    expect(await hashOf(cairn)).not.toBe(before);
    // A past revision still hashes as it did.
    const rev = await revisionOf(cairn);
    const r = await etcdctl(cairn.endpoint, ['endpoint', 'hashkv', `--rev=${rev - 1}`]);
    expect(r.stdout).toBe(`${cairn.endpoint}, ${before}\n`);
  });

  it('answers etcd errors for future and compacted revisions', async () => {
    await both(['endpoint', 'hashkv', '--rev=1000']);
    await both(['compaction', '3']);
    await both(['endpoint', 'hashkv', '--rev=3']);
    await both(['endpoint', 'hashkv', '--rev=2']);
    await both(['endpoint', 'hashkv', '--rev=4']);
  });
});

describe('etcdctl alarm, defrag and --quota-backend-bytes', () => {
  it('lists no alarms and disarms nothing on a healthy member; defrag succeeds', async () => {
    expect((await both(['alarm', 'list'])).stdout).toBe('');
    expect((await both(['alarm', 'disarm'])).stdout).toBe('');
    const r = await both(['defrag']);
    expect(r.stdout).toBe(`Finished defragmenting etcd member[${cairn.endpoint}]\n`);
  });

  it('raises NOSPACE when the quota fills, and recovers after delete, compaction, defrag and disarm', async () => {
    const [fitCairn, fitEtcd] = await Promise.all([fill(cairn), fill(etcd)]);
    expect(fitCairn).toBeGreaterThan(10);
    expect(fitEtcd).toBeGreaterThan(10);

    const list = await both(['alarm', 'list']);
    expect(list.stdout).toMatch(/^memberID:\d+ alarm:NOSPACE \n$/);
    const status = await etcdctl(cairn.endpoint, ['endpoint', 'status', '-w', 'json']);
    expect(status.stdout).toMatch(/"errors":\["memberID:\d+ alarm:NOSPACE "\]/);
    const api = connect(cairn.endpoint);
    try {
      const s = await api.maintenance.Status({});
      expect(Number(s.dbSizeInUse)).toBeGreaterThan(200 * 1024);
      expect(Number(s.dbSize)).toBeGreaterThanOrEqual(Number(s.dbSizeInUse));
    } finally {
      api.close();
    }

    // Deletes pass; puts stay refused while the alarm is up.
    const [dc, de] = await Promise.all([
      etcdctl(cairn.endpoint, ['del', 'k', '--prefix']),
      etcdctl(etcd.endpoint, ['del', 'k', '--prefix']),
    ]);
    expect([dc.code, dc.stdout]).toEqual([0, `${fitCairn}\n`]);
    // etcd checks the quota again when it applies a put, against a size it updates every 100 ms:
    // the put that crossed the quota may have been applied and still answered NOSPACE.
    expect(de.code).toBe(0);
    expect([`${fitEtcd}\n`, `${fitEtcd + 1}\n`]).toContain(de.stdout);
    await both(['put', 'z', '1']);

    const [rc, re] = await Promise.all([revisionOf(cairn), revisionOf(etcd)]);
    const [cc, ce] = await Promise.all([
      etcdctl(cairn.endpoint, ['compaction', String(rc), '--physical']),
      etcdctl(etcd.endpoint, ['compaction', String(re), '--physical']),
    ]);
    expect(cc).toEqual({ code: 0, stdout: `compacted revision ${rc}\n`, stderr: '' });
    expect(ce).toEqual({ code: 0, stdout: `compacted revision ${re}\n`, stderr: '' });
    await both(['defrag']);
    // Still refused: the alarm stays until disarmed.
    expect((await both(['put', 'z', '1'])).stderr).toContain(NOSPACE_ERROR);

    expect((await both(['alarm', 'disarm'])).stdout).toMatch(/^memberID:\d+ alarm:NOSPACE \n$/);
    expect((await both(['alarm', 'list'])).stdout).toBe('');
    expect((await both(['put', 'z', '1'])).stdout).toBe('OK\n');
    const after = await etcdctl(cairn.endpoint, ['endpoint', 'status', '-w', 'json']);
    expect(after.stdout).not.toContain('"errors"');

    // The alarm is in the log and the store: it survives a restart.
    await fill(cairn);
    cairn = await cairn.restart();
    const again = await etcdctl(cairn.endpoint, ['alarm', 'list']);
    expect(again.stdout).toMatch(/^memberID:\d+ alarm:NOSPACE \n$/);
  });
});
