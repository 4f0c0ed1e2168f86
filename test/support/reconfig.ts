// etcd's strict reconfiguration check refuses membership changes ("etcdserver: unhealthy cluster")
// until the member asked has been connected to every voter for 5 s (its health interval), e.g.
// right after the cluster started or a member restarted. Tests that only need the change made
// retry that refusal.
const UNHEALTHY = 'etcdserver: unhealthy cluster';

/** Runs `attempt` again while its outcome says the cluster is unhealthy (up to `timeoutMs`). */
export async function whileUnhealthy<T>(
  attempt: () => Promise<T>,
  describe: (outcome: T) => string | undefined,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let outcome = await attempt();
  while (describe(outcome)?.includes(UNHEALTHY) && Date.now() < deadline) {
    await new Promise((ok) => setTimeout(ok, 250));
    outcome = await attempt();
  }
  return outcome;
}
