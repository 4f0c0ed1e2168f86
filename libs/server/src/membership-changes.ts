import { createHash } from 'node:crypto';
import { ConfChange, ConfChangeType } from '../../raft/src';
import { Errors, EtcdError } from './etcd-errors';
import { ClusterMember, Membership } from './membership';

/** etcd 3.4 allows one learner at a time. */
const MAX_LEARNERS = 1;

/** etcd's HealthInterval: a peer counts as active once connected this long without a break. */
export const HEALTH_INTERVAL_MS = 5000;

/** Since when this member has been connected to a peer (Date.now()), 0 when it is not. */
export type ActiveSince = (id: bigint) => number;

/** The voters (this member included) this member has been connected to for the health interval. */
function activeVoters(membership: Membership, self: bigint, activeSince: ActiveSince, now: number): number {
  const since = now - HEALTH_INTERVAL_MS;
  let active = 0;
  for (const m of membership.list()) {
    if (m.isLearner) continue;
    const t = m.id === self ? 1 : activeSince(m.id);
    if (t !== 0 && t <= since) active++;
  }
  return active;
}

function voterCount(membership: Membership): number {
  return membership.list().filter((m) => !m.isLearner).length;
}

/**
 * etcd 3.4's health check before adding a member (voter or learner) under
 * --strict-reconfig-check: this member must have been connected to every voter for the health
 * interval, else the cluster is "unhealthy".
 */
export function healthyToAdd(
  membership: Membership,
  self: bigint,
  activeSince: ActiveSince,
  now: number,
): boolean {
  return activeVoters(membership, self, activeSince, now) === voterCount(membership);
}

/**
 * etcd 3.4's health check before removing voter `id`: removing a peer this member is not
 * connected to is safe (it is not part of the active quorum); otherwise the active voters
 * left must be a quorum of the voters left. Learners are removed without a check.
 */
export function healthyToRemove(
  membership: Membership,
  self: bigint,
  id: bigint,
  activeSince: ActiveSince,
  now: number,
): boolean {
  const target = membership.get(id);
  if (!target || target.isLearner) return true;
  if (id !== self && activeSince(id) === 0) return true;
  const left = voterCount(membership) - 1;
  return activeVoters(membership, self, activeSince, now) - 1 >= Math.floor(left / 2) + 1;
}

/**
 * The id etcd gives a member added at runtime: like a bootstrap id (sorted peer URLs, then the
 * cluster name, here empty) with the current Unix second appended, so re-adding differs.
 */
export function newMemberId(peerUrls: string[], nowSeconds: number): bigint {
  const joined = [...peerUrls].sort().join('') + String(nowSeconds);
  return createHash('sha1').update(joined).digest().readBigUInt64BE(0);
}

/** etcd 3.4's types.NewURLs rules for peer URLs: http(s) or unix(s), host:port (a path passes). */
const PEER_URL = /^(?:https?|unixs?):\/\/(?:\[[0-9a-fA-F:.]+\]|[^:/?#@[\]]*):\d*(?:[/?#].*)?$/;

export function validPeerUrls(urls: string[]): boolean {
  return urls.length > 0 && urls.every((u) => PEER_URL.test(u));
}

/** A conf change's context: the member it adds or updates (ids as decimal strings). */
export function encodeMemberContext(m: ClusterMember): Uint8Array {
  return Buffer.from(JSON.stringify({ ...m, id: m.id.toString() }));
}

export function decodeMemberContext(data: Uint8Array): ClusterMember | undefined {
  if (data.length === 0) return undefined;
  const raw = JSON.parse(Buffer.from(data).toString('utf8')) as Omit<ClusterMember, 'id'> & { id: string };
  return { ...raw, id: BigInt(raw.id) };
}

/**
 * etcd's ValidateConfigurationChange, run on every member when the change is applied (so all
 * decide alike): the error to answer the proposer with, or undefined when it may be applied.
 */
export function checkConfChange(membership: Membership, cc: ConfChange): EtcdError | undefined {
  const id = cc.nodeId;
  if (membership.isRemoved(id)) return Errors.memberNotFound();
  const existing = membership.get(id);
  const member = decodeMemberContext(cc.context);
  switch (cc.type) {
    case ConfChangeType.AddNode:
      // A learner re-added as a voter is a promotion.
      if (existing && !(existing.isLearner && member && !member.isLearner)) return Errors.memberExist();
      if (existing) return undefined;
      if (member && membership.usingPeerUrl(member.peerUrls)) return Errors.peerUrlExist();
      return undefined;
    case ConfChangeType.AddLearnerNode:
      if (existing) return Errors.memberExist();
      if (member && membership.usingPeerUrl(member.peerUrls)) return Errors.peerUrlExist();
      if (membership.learnerCount() >= MAX_LEARNERS) return Errors.tooManyLearners();
      return undefined;
    case ConfChangeType.RemoveNode:
      return existing ? undefined : Errors.memberNotFound();
    case ConfChangeType.UpdateNode:
      if (!existing) return Errors.memberNotFound();
      if (member && membership.usingPeerUrl(member.peerUrls, id)) return Errors.peerUrlExist();
      return undefined;
  }
  return undefined;
}

/** Applies a checked change to the member list. */
export function applyToMembership(membership: Membership, cc: ConfChange): void {
  const member = decodeMemberContext(cc.context);
  switch (cc.type) {
    case ConfChangeType.AddNode:
      if (membership.get(cc.nodeId)) membership.promote(cc.nodeId);
      else if (member) membership.add({ ...member, isLearner: false });
      return;
    case ConfChangeType.AddLearnerNode:
      if (member) membership.add({ ...member, isLearner: true });
      return;
    case ConfChangeType.RemoveNode:
      membership.remove(cc.nodeId);
      return;
    case ConfChangeType.UpdateNode:
      if (member) membership.updatePeerUrls(cc.nodeId, member.peerUrls);
      return;
  }
}
