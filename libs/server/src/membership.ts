import { Engine, EngineOp, metaKey } from '../../storage/src';
import { computeMemberId } from './identity';

/** One member of the cluster as MemberList reports it. Ids are bigint end to end. */
export interface ClusterMember {
  id: bigint;
  name: string;
  peerUrls: string[];
  clientUrls: string[];
}

const MEMBERS_KEY = metaKey('cluster-members');

/**
 * The cluster's members, recorded at bootstrap from --initial-cluster (a restart ignores the
 * flags and reads this) and updated through the log as members publish their attributes.
 */
export class Membership {
  private readonly members = new Map<bigint, ClusterMember>();

  constructor(members: ClusterMember[]) {
    for (const m of members) this.members.set(m.id, m);
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

  static load(engine: Engine): Membership | undefined {
    const raw = engine.get(MEMBERS_KEY);
    if (!raw) return undefined;
    const list = JSON.parse(raw.toString('utf8')) as (Omit<ClusterMember, 'id'> & { id: string })[];
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
    const list = this.list().map((m) => ({ ...m, id: m.id.toString() }));
    return { type: 'put', key: MEMBERS_KEY, value: Buffer.from(JSON.stringify(list)) };
  }
}
