import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthStore, SimpleTokenProvider } from '../../auth/src';
import { Lessor } from '../../lease/src';
import { Engine, MvccStore } from '../../storage/src';
import { AlarmStore } from './alarms';
import { Applier } from './applier';
import { AuthApplier, toRequestAuthInfo } from './auth-applier';
import { InternalRequest } from './internal-request';

const b = (s: string) => Buffer.from(s);

describe('AuthApplier in the apply loop', () => {
  let dir: string;
  let engine: Engine;
  let auth: AuthStore;
  let tokens: SimpleTokenProvider;
  let apply: (req: Omit<InternalRequest, 'id'>) => { response?: any; error?: any };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cairn-auth-apply-'));
    engine = await Engine.open(dir);
    auth = new AuthStore();
    tokens = new SimpleTokenProvider(60_000);
    const store = await MvccStore.open(engine);
    const lessor = await Lessor.load(engine, store, { minTtl: 1 });
    const applier = new Applier(store, new AlarmStore(), lessor, new AuthApplier(auth, tokens));
    let index = 0;
    apply = (req) => {
      index += 1;
      return applier.applyBatch([{ index, request: { id: String(index), ...req } }])[0];
    };
    apply({ auth_user_add: { name: 'root', hashed_password: 'h' } });
    apply({ auth_user_grant_role: { user: 'root', role: 'root' } });
    apply({ auth_user_add: { name: 'u', hashed_password: 'h' } });
    apply({ auth_role_add: { name: 'r' } });
    apply({
      auth_role_grant_permission: { name: 'r', perm: { permType: 2, key: b('a'), range_end: b('c') } },
    });
    apply({ auth_user_grant_role: { user: 'u', role: 'r' } });
    expect(apply({ auth_enable: {} }).error).toBeUndefined();
  });

  afterEach(async () => {
    tokens.stop();
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const as = (username: string) => toRequestAuthInfo({ username, revision: auth.revision });
  const etcdError = (code: number, message: string) => expect.objectContaining({ code, message });

  it('checks a write against the auth store as it is when the write applies', () => {
    const proposed = as('u');
    expect(apply({ put: { key: b('a'), value: b('1') }, auth_info: proposed }).error).toBeUndefined();
    // Revoked after the next write was proposed, before it applied: the write is refused.
    apply({
      auth_role_revoke_permission: { role: 'r', key: b('a'), range_end: b('c') },
      auth_info: as('root'),
    });
    expect(apply({ put: { key: b('b'), value: b('1') }, auth_info: proposed }).error).toEqual(
      etcdError(3, 'etcdserver: revision of auth store is old'),
    );
    expect(apply({ put: { key: b('b'), value: b('1') }, auth_info: as('u') }).error).toEqual(
      etcdError(7, 'etcdserver: permission denied'),
    );
    expect(apply({ put: { key: b('b'), value: b('1') } }).error).toEqual(
      etcdError(3, 'etcdserver: user name is empty'),
    );
  });

  it('checks every operation of a txn, nested ones included', () => {
    const txn = (inner: string) => ({
      compare: [{ key: b('a'), target: 0, result: 0, version: '0' }],
      success: [{ request_txn: { success: [{ request_put: { key: b(inner), value: b('v') } }] } }],
    });
    expect(apply({ txn: txn('b'), auth_info: as('u') }).error).toBeUndefined();
    expect(apply({ txn: txn('z'), auth_info: as('u') }).error).toEqual(
      etcdError(7, 'etcdserver: permission denied'),
    );
  });

  it('keeps auth management for root', () => {
    expect(apply({ auth_role_add: { name: 'x' }, auth_info: as('u') }).error).toEqual(
      etcdError(7, 'etcdserver: permission denied'),
    );
    expect(apply({ auth_user_list: {} }).error).toEqual(etcdError(3, 'etcdserver: user name is empty'));
    expect(apply({ auth_user_list: {}, auth_info: as('root') }).response.users).toEqual(['root', 'u']);
    // A user may read itself and its roles.
    expect(apply({ auth_user_get: { name: 'u' }, auth_info: as('u') }).response.roles).toEqual(['r']);
  });

  it('gives every member the same simple token for a login', () => {
    const res = apply({ authenticate: { name: 'u', simple_token_prefix: 'abcdefghijklmnop' } });
    expect(res.response.token).toMatch(/^abcdefghijklmnop\.\d+$/);
    expect(tokens.info(res.response.token, auth.revision)?.username).toBe('u');
  });
});
