import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { ETCD_API_VERSION, Member } from '../../server/src';

/**
 * The member's Prometheus metrics under etcd's names, so existing dashboards and alerts for
 * etcd work unchanged. Values are read from the member when scraped: nothing is counted on the
 * request path.
 */
export function memberMetrics(member: Member): Registry {
  const registry = new Registry();
  const gauge = (name: string, help: string, read: () => number, labels?: Record<string, string>) =>
    new Gauge({
      name,
      help,
      labelNames: labels ? Object.keys(labels) : [],
      registers: [registry],
      collect() {
        if (labels) this.set(labels, read());
        else this.set(read());
      },
    });
  const read = <K extends keyof ReturnType<Member['status']>>(field: K) => member.status()[field];
  const memberId = member.identity.memberId;

  gauge('etcd_server_has_leader', 'Whether or not a leader exists. 1 is existence, 0 is not.', () =>
    read('leader') !== '0' ? 1 : 0,
  );
  gauge('etcd_server_is_leader', 'Whether or not this member is a leader. 1 if is, 0 otherwise.', () =>
    read('leader') === memberId.toString() ? 1 : 0,
  );
  gauge('etcd_server_is_learner', 'Whether or not this member is a learner. 1 if is, 0 otherwise.', () =>
    read('isLearner') ? 1 : 0,
  );
  gauge(
    'etcd_server_id',
    "Server or member ID in hexadecimal format. 1 for 'server_id' label with current ID.",
    () => 1,
    { server_id: memberId.toString(16) },
  );
  gauge(
    'etcd_server_version',
    "Which version is running. 1 for 'server_version' label with current version.",
    () => 1,
    { server_version: ETCD_API_VERSION },
  );
  gauge('etcd_server_proposals_committed_total', 'The total number of consensus proposals committed.', () =>
    Number(read('raftIndex')),
  );
  gauge('etcd_server_proposals_applied_total', 'The total number of consensus proposals applied.', () =>
    Number(read('raftAppliedIndex')),
  );
  gauge(
    'etcd_server_quota_backend_bytes',
    'Current backend storage quota size in bytes.',
    () => member.config.quotaBytes ?? 0,
  );
  gauge(
    'etcd_mvcc_db_total_size_in_bytes',
    'Total size of the underlying database physically allocated in bytes.',
    () => Number(read('dbSize')),
  );
  gauge(
    'etcd_mvcc_db_total_size_in_use_in_bytes',
    'Total size of the underlying database logically in use in bytes.',
    () => Number(read('dbSizeInUse')),
  );
  gauge(
    'etcd_debugging_mvcc_current_revision',
    'The current revision of store.',
    () => member.store.revision,
  );
  gauge(
    'etcd_debugging_mvcc_compact_revision',
    'The revision of the last compaction in store.',
    () => member.store.compactedRevision,
  );
  collectDefaultMetrics({ register: registry });
  return registry;
}
