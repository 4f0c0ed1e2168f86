// What the SDK, recipe and NestJS suites run against: a 3-member etcd 3.4 cluster and a 3-member
// Cairn cluster, both started with the same etcd-style flags. Clients get every member's endpoint
// and rotate over them, so calls, watches and keep-alives land on followers as well as the leader.
import { connect, settle } from './etcd-api';
import { MemberKind, MemberProcess, startCluster } from './members';

/** The kinds every such suite runs against, in order. */
export const TARGET_KINDS: MemberKind[] = ['etcd', 'cairn'];

export interface Target {
  kind: MemberKind;
  members: MemberProcess[];
  /** Every member's client endpoint (host:port), in member order. */
  endpoints: string[];
  /** Kills every member and removes its data. */
  stop(): Promise<void>;
}

/** Starts a 3-member cluster of `kind`; call once per suite (beforeAll), it takes a few seconds. */
export async function startTarget(kind: MemberKind, extraArgs: string[] = []): Promise<Target> {
  const members = await startCluster(kind, 3, { extraArgs, token: `sdk-${kind}` });
  return {
    kind,
    members,
    endpoints: members.map((m) => m.endpoint),
    // SIGKILL: etcd members stopped together each wait seconds for the others (leadership
    // transfer), and the data is thrown away anyway.
    stop: async () => {
      await Promise.all(members.map((m) => m.kill('SIGKILL').then(() => m.stop())));
    },
  };
}

/**
 * Polls until the running members agree on a leader among them and returns its index: writes
 * sent while a new leader is being elected may time out with an unknown outcome.
 */
export async function agreedLeader(target: Target): Promise<number> {
  const running = target.members.flatMap((m, i) =>
    m.child.exitCode === null && !m.child.signalCode ? [i] : [],
  );
  for (;;) {
    const statuses = await Promise.all(
      running.map(async (i) => {
        const api = connect(target.endpoints[i]);
        const s = await settle(api.maintenance.Status({}));
        api.close();
        return s.ok && { id: String(s.ok.header.member_id), leader: String(s.ok.leader) };
      }),
    );
    const leader = statuses[0] && statuses[0].leader;
    const at = statuses.findIndex((s) => s && s.id === leader);
    if (at >= 0 && statuses.every((s) => s && s.leader === leader)) return running[at];
    await new Promise((ok) => setTimeout(ok, 100));
  }
}
