import { HEALTH_INTERVAL_MS, healthyToAdd, healthyToRemove } from './membership-changes';
import { ClusterMember, Membership } from './membership';

const [A, B, C, L] = [1n, 2n, 3n, 4n];
const NOW = 1_000_000;
const LONG_AGO = NOW - HEALTH_INTERVAL_MS - 1;

const member = (id: bigint, isLearner = false): ClusterMember => ({
  id,
  name: `m${id}`,
  peerUrls: [`http://10.0.0.${id}:2380`],
  clientUrls: [],
  isLearner,
});
const cluster = new Membership([member(A), member(B), member(C), member(L, true)]);
/** Since when A (this member) has been connected to each peer; absent = not connected. */
const connected = (since: Record<string, number>) => (id: bigint) => since[String(id)] ?? 0;

describe("etcd 3.4's strict reconfiguration health checks, seen from member A", () => {
  it('adding needs every voter connected for the health interval (learners do not count)', () => {
    expect(healthyToAdd(cluster, A, connected({ 2: LONG_AGO, 3: LONG_AGO }), NOW)).toBe(true);
    expect(healthyToAdd(cluster, A, connected({ 2: LONG_AGO }), NOW)).toBe(false);
    // Connected, but not for long enough yet (e.g. just restarted).
    expect(healthyToAdd(cluster, A, connected({ 2: LONG_AGO, 3: NOW - 1000 }), NOW)).toBe(false);
  });

  it('removing a voter that is down is allowed; a live one only if the active voters left are a quorum', () => {
    const cDown = connected({ 2: LONG_AGO });
    expect(healthyToRemove(cluster, A, C, cDown, NOW)).toBe(true);
    expect(healthyToRemove(cluster, A, B, cDown, NOW)).toBe(false);
    expect(healthyToRemove(cluster, A, A, cDown, NOW)).toBe(false);
    const allUp = connected({ 2: LONG_AGO, 3: LONG_AGO });
    expect(healthyToRemove(cluster, A, B, allUp, NOW)).toBe(true);
    expect(healthyToRemove(cluster, A, A, allUp, NOW)).toBe(true);
  });

  it('removing a learner, or an id that is not a member, is not checked', () => {
    expect(healthyToRemove(cluster, A, L, connected({ 4: NOW }), NOW)).toBe(true);
    expect(healthyToRemove(cluster, A, 99n, connected({}), NOW)).toBe(true);
  });
});
