import { Engine, EngineOp, metaKey } from '../../storage/src';
import { computeMemberId } from './identity';

/** One member of the cluster as MemberList reports it. Ids are bigint end to end. */
export interface ClusterMember {
  id: bigint;
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner?: boolean;
}

const MEMBERS_KEY = metaKey('cluster-members');

/** This member was removed from the cluster: it may not serve again from this data directory. */
export class MemberRemovedError extends Error {
  constructor() {
    // etcd's wording.
    super('the member has been permanently removed from the cluster');
    this.name = 'MemberRemovedError';
  }
}

/**
 * The cluster's members, recorded at bootstrap from --initial-cluster (a restart ignores the
 * flags and reads this) and updated through the log as members publish their attributes.
 */
export class Membership {
  private readonly members = new Map<bigint, ClusterMember>();
  /** Ids removed from the cluster: never reused (etcd's ErrIDRemoved). */
  private readonly removed = new Set<bigint>();

  constructor(members: ClusterMember[], removed: bigint[] = []) {
    for (const m of members) this.members.set(m.id, m);
    for (const id of removed) this.removed.add(id);
  }

  /** The members of a new cluster from --initial-cluster (name -> peer URLs). */
  static fromInitialCluster(initialCluster: Record<string, string[]>, token: string): Membership {
    return new Membership(
      Object.entries(initialCluster).map(([name, peerUrls]) => ({
        id: computeMemberId(peerUrls, token),
        name,
        peerUrls: [...peerUrls],
        clientUrls: [],
      })),
    );
  }

  /** Takes `other`'s members and removed ids (a snapshot replaced the recorded list). */
  replaceWith(other: Membership): void {
    this.members.clear();
    this.removed.clear();
    for (const m of other.members.values()) this.members.set(m.id, m);
    for (const id of other.removed) this.removed.add(id);
  }

  static load(engine: Engine): Membership | undefined {
    const raw = engine.get(MEMBERS_KEY);
    if (!raw) return undefined;
    const saved = JSON.parse(raw.toString('utf8')) as {
      members: (Omit<ClusterMember, 'id'> & { id: string })[];
      removed: string[];
    };
    return new Membership(
      saved.members.map((m) => ({ ...m, id: BigInt(m.id) })),
      saved.removed.map((id) => BigInt(id)),
    );
  }

  /** The members as Peer.Members serves them to a joining member. */
  toJson(): Buffer {
    return Buffer.from(JSON.stringify(this.list().map((m) => ({ ...m, id: m.id.toString() }))));
  }

  static fromJson(data: Uint8Array): Membership {
    const list = JSON.parse(Buffer.from(data).toString('utf8')) as (Omit<ClusterMember, 'id'> & {
      id: string;
    })[];
    return new Membership(list.map((m) => ({ ...m, id: BigInt(m.id) })));
  }

  list(): ClusterMember[] {
    return [...this.members.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  get(id: bigint): ClusterMember | undefined {
    return this.members.get(id);
  }

  ids(): bigint[] {
    return [...this.members.keys()];
  }

  /** The other members' peer URLs, for the transport. */
  peersOf(self: bigint): Map<bigint, string[]> {
    const peers = new Map<bigint, string[]>();
    for (const m of this.members.values()) if (m.id !== self) peers.set(m.id, m.peerUrls);
    return peers;
  }

  isRemoved(id: bigint): boolean {
    return this.removed.has(id);
  }

  /** The member whose peer URLs include one of `urls`, other than `except`. */
  usingPeerUrl(urls: string[], except?: bigint): ClusterMember | undefined {
    for (const m of this.members.values()) {
      if (m.id !== except && m.peerUrls.some((u) => urls.includes(u))) return m;
    }
    return undefined;
  }

  /**
   * etcd's check before adding a voter (strict reconfiguration): the voters that have started
   * (published their name) must be a quorum of the voters that would result; a cluster of one
   * may always grow (to restore data into a new cluster).
   */
  startedQuorumAfterAddingVoter(): boolean {
    const { voters, started } = this.countVoters();
    if (voters === 1 && started === 1) return true;
    return started >= Math.floor((voters + 1) / 2) + 1;
  }

  /** etcd's check before promoting a learner, which counts as started. */
  startedQuorumAfterPromoting(): boolean {
    const { voters, started } = this.countVoters();
    return started + 1 >= Math.floor((voters + 1) / 2) + 1;
  }

  private countVoters(): { voters: number; started: number } {
    let voters = 0;
    let started = 0;
    for (const m of this.members.values()) {
      if (m.isLearner) continue;
      voters++;
      if (m.name !== '') started++;
    }
    return { voters, started };
  }

  /** etcd's check before removing a voter: the started voters left must still be a quorum. */
  startedQuorumAfterRemoving(id: bigint): boolean {
    const target = this.members.get(id);
    if (!target || target.isLearner) return true;
    let voters = 0;
    let started = 0;
    for (const m of this.members.values()) {
      if (m.isLearner || m.id === id) continue;
      voters++;
      if (m.name !== '') started++;
    }
    return started >= Math.floor(voters / 2) + 1;
  }

  learnerCount(): number {
    let n = 0;
    for (const m of this.members.values()) if (m.isLearner) n++;
    return n;
  }

  add(member: ClusterMember): void {
    this.members.set(member.id, member);
  }

  remove(id: bigint): void {
    this.members.delete(id);
    this.removed.add(id);
  }

  /** A learner becomes a voter. */
  promote(id: bigint): void {
    const m = this.members.get(id);
    if (m) m.isLearner = false;
  }

  updatePeerUrls(id: bigint, peerUrls: string[]): void {
    const m = this.members.get(id);
    if (m) m.peerUrls = [...peerUrls];
  }

  /** Records a member's name and client URLs (a published attributes entry); ignores unknown ids. */
  publish(id: bigint, name: string, clientUrls: string[]): boolean {
    const m = this.members.get(id);
    if (!m) return false;
    m.name = name;
    m.clientUrls = [...clientUrls];
    return true;
  }

  /** The write that records the current list. */
  saveOp(): EngineOp {
    const members = this.list().map((m) => ({ ...m, id: m.id.toString() }));
    const removed = [...this.removed].map((id) => id.toString());
    return { type: 'put', key: MEMBERS_KEY, value: Buffer.from(JSON.stringify({ members, removed })) };
  }
}
