// Lock and Election with auth on, against etcd 3.4 and Cairn: the services act with the
// caller's own permissions (etcd's embedded client forwards the token), so a user may lock and
// campaign under the prefixes it may write, and is refused elsewhere, with the same answers.
import { AuthClient, connectAuth } from '../auth/auth-client';
import { CoordinationApi, connectCoordination, outcome } from '../support/coordination-api';
import { MemberKind, MemberProcess, startMember } from '../support/members';

jest.setTimeout(60_000);

const b = (s: string) => Buffer.from(s);
const READWRITE = 2;
const answers: Partial<Record<MemberKind, any[]>> = {};

describe.each<MemberKind>(['etcd', 'cairn'])('Lock and Election with auth on %s', (kind) => {
  let member: MemberProcess;
  let admin: AuthClient;
  let alice: CoordinationApi;
  let anonymous: CoordinationApi;

  beforeAll(async () => {
    member = await startMember(kind, { extraArgs: ['--bcrypt-cost', '4'] });
    admin = connectAuth(member.endpoint);
    await admin.auth('UserAdd', { name: 'root', password: 'rootpw' });
    await admin.auth('UserGrantRole', { user: 'root', role: 'root' });
    await admin.auth('RoleAdd', { name: 'mine' });
    const perm = { permType: READWRITE, key: b('mine/'), range_end: b('mine0') };
    await admin.auth('RoleGrantPermission', { name: 'mine', perm });
    await admin.auth('UserAdd', { name: 'alice', password: 'alicepw' });
    await admin.auth('UserGrantRole', { user: 'alice', role: 'mine' });
    await admin.auth('AuthEnable');
    const { token } = await admin.auth('Authenticate', { name: 'alice', password: 'alicepw' });
    alice = connectCoordination(member.endpoint, token);
    anonymous = connectCoordination(member.endpoint);
  });
  afterAll(async () => {
    admin?.close();
    alice?.close();
    anonymous?.close();
    await member?.stop();
  });

  it('permits what the caller may do and refuses the rest', async () => {
    const lease = (await alice.unary('lease', 'LeaseGrant', { TTL: 60 })).ID;
    const hex = BigInt(lease).toString(16);
    const log: any[] = [];
    const record = async (p: Promise<any>) => {
      const o = await outcome(p);
      log.push(
        o.ok ? { ok: o.ok.key?.toString().replace(hex, '<lease>') ?? o.ok.kv?.value.toString() ?? 'ok' } : o,
      );
      return o.ok;
    };
    const held = await record(alice.unary('lock', 'Lock', { name: b('mine'), lease }));
    await record(alice.unary('lock', 'Unlock', { key: held.key }));
    await record(alice.unary('lock', 'Lock', { name: b('theirs'), lease }));
    await record(anonymous.unary('lock', 'Lock', { name: b('mine'), lease }));
    const led = await record(alice.unary('election', 'Campaign', { name: b('mine'), lease, value: b('v1') }));
    await record(alice.unary('election', 'Leader', { name: b('mine') }));
    await record(alice.unary('election', 'Leader', { name: b('theirs') }));
    await record(alice.unary('election', 'Campaign', { name: b('theirs'), lease, value: b('v') }));
    await record(alice.unary('election', 'Resign', { leader: led.leader }));
    // An observer that may not read the election is not kept waiting: its stream just ends.
    const refused = alice.observe('theirs');
    log.push({ observeEnds: (await refused.ended).code, messages: refused.messages.length });
    expect(log[0]).toEqual({ ok: 'mine/<lease>' });
    expect(log[2]).toEqual({ error: { code: 2, details: 'etcdserver: permission denied' } });
    expect(log[5]).toEqual({ ok: 'v1' });
    expect(log[9]).toEqual({ observeEnds: 0, messages: 0 });
    answers[kind] = log;
  });
});

describe('Lock and Election with auth: Cairn answers as etcd does', () => {
  it('the same answers', () => {
    expect(answers.etcd).toBeDefined();
    expect(answers.cairn).toEqual(answers.etcd);
  });
});
