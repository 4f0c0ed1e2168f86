import { TlsMaterial, fetchMembers } from '../../consensus/src';
import { Engine } from '../../storage/src';
import { Identity, computeClusterId, computeMemberId, saveIdentity } from './identity';
import { Membership } from './membership';

export interface BootstrapFlags {
  name: string;
  /** Member name -> peer URLs, from --initial-cluster. */
  initialCluster: Record<string, string[]>;
  initialClusterToken: string;
  initialClusterState?: 'new' | 'existing';
  clientUrls?: string[];
  /** Peer TLS, for asking an https:// member for the member list. */
  peerTls?: TlsMaterial;
}

/**
 * A first start in an empty data directory: the identity and member list of a new cluster
 * (derived from the flags, as etcd derives them on every founding member), or of the existing
 * cluster this member was added to (asked of the members listed in --initial-cluster). The
 * member list is recorded before the identity, the mark of a bootstrapped member.
 */
export async function bootstrap(
  engine: Engine,
  flags: BootstrapFlags,
): Promise<{ identity: Identity; membership: Membership }> {
  const ownUrls = flags.initialCluster[flags.name];
  if (!ownUrls)
    throw new Error(`couldn't find local name "${flags.name}" in the initial cluster configuration`);
  const { identity, membership } =
    flags.initialClusterState === 'existing'
      ? await joinExisting(flags, ownUrls)
      : newCluster(flags, ownUrls);
  await engine.writeSynced([membership.saveOp()]);
  // One synced write: a member never has an identity without its attributes.
  await saveIdentity(engine, identity, {
    name: flags.name,
    peerUrls: ownUrls,
    clientUrls: flags.clientUrls ?? [],
  });
  return { identity, membership };
}

function newCluster(
  flags: BootstrapFlags,
  ownUrls: string[],
): { identity: Identity; membership: Membership } {
  const membership = Membership.fromInitialCluster(flags.initialCluster, flags.initialClusterToken);
  const identity = {
    memberId: computeMemberId(ownUrls, flags.initialClusterToken),
    clusterId: computeClusterId(membership.ids()),
  };
  return { identity, membership };
}

/**
 * --initial-cluster-state existing: the cluster id and members come from a running member; this
 * member must be among them (added with MemberAdd, by its peer URLs) and --initial-cluster must
 * list as many members as the cluster has, as etcd checks.
 */
async function joinExisting(
  flags: BootstrapFlags,
  ownUrls: string[],
): Promise<{ identity: Identity; membership: Membership }> {
  const peerUrls = Object.entries(flags.initialCluster)
    .filter(([name]) => name !== flags.name)
    .flatMap(([, urls]) => urls);
  const errors: string[] = [];
  for (const url of peerUrls) {
    let answer;
    try {
      answer = await fetchMembers(url, 2000, flags.peerTls);
    } catch (err) {
      errors.push(`${url}: ${(err as Error).message}`);
      continue;
    }
    const membership = Membership.fromJson(answer.members);
    const sorted = (urls: string[]) => [...urls].sort().join(',');
    const self = membership.list().find((m) => sorted(m.peerUrls) === sorted(ownUrls));
    const described = `cluster ${answer.clusterId.toString(16)} (${membership.list().length} members)`;
    if (membership.list().length !== Object.keys(flags.initialCluster).length) {
      throw new Error(`error validating peerURLs ${described}: member count is unequal`);
    }
    if (!self)
      throw new Error(`error validating peerURLs ${described}: unmatched member while checking PeerURLs`);
    return { identity: { memberId: self.id, clusterId: answer.clusterId }, membership };
  }
  throw new Error(
    `cannot fetch cluster info from peer urls: could not retrieve cluster information from the given URLs (${errors.join('; ')})`,
  );
}
