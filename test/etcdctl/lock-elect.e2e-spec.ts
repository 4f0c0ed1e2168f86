// `etcdctl lock` and `etcdctl elect` (etcd's own client-side concurrency recipes) against etcd 3.4
// and Cairn: a waiter runs its command only once the holder lets go, and a second candidate
// leads (and an observer sees it) once the first one quits.
import { CoordinationApi, connectCoordination, waitForKeys } from '../support/coordination-api';
import { MemberKind, MemberProcess, startMember } from '../support/members';
import { etcdctl, killChildren } from '../recipes/processes';

jest.setTimeout(60_000);

describe.each<MemberKind>(['etcd', 'cairn'])('etcdctl lock and elect against %s', (kind) => {
  let member: MemberProcess;
  let api: CoordinationApi;

  beforeAll(async () => {
    member = await startMember(kind);
    api = connectCoordination(member.endpoint);
  });
  afterAll(async () => {
    killChildren();
    api?.close();
    await member?.stop();
  });

  it('lock: the waiter runs its command after the holder quits', async () => {
    const holder = etcdctl(member.endpoint, 'lock', 'ctl-lock');
    await holder.waitFor(/ctl-lock\/[0-9a-f]+/);
    const waiter = etcdctl(member.endpoint, 'lock', 'ctl-lock', 'echo', 'waiter-ran');
    await waitForKeys(api, 'ctl-lock/', 2);
    expect(waiter.output()).not.toContain('waiter-ran');
    holder.child.kill('SIGINT');
    await waiter.waitFor(/waiter-ran/);
    expect(await waiter.exited).toBe(0);
    await waitForKeys(api, 'ctl-lock/', 0);
  });

  it('elect: the next candidate leads once the leader quits, and an observer follows', async () => {
    const alice = etcdctl(member.endpoint, 'elect', 'ctl-elect', 'alice');
    await alice.waitFor(/ctl-elect\/[0-9a-f]+\s+alice/);
    const observer = etcdctl(member.endpoint, 'elect', '-l', 'ctl-elect');
    await observer.waitFor(/alice/);
    const bob = etcdctl(member.endpoint, 'elect', 'ctl-elect', 'bob');
    await waitForKeys(api, 'ctl-elect/', 2);
    expect(bob.output()).toBe('');
    alice.child.kill('SIGINT');
    await bob.waitFor(/ctl-elect\/[0-9a-f]+\s+bob/);
    await observer.waitFor(/bob/);
    bob.child.kill('SIGINT');
    observer.child.kill('SIGINT');
  });
});
