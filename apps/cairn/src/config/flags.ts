// The single table of etcd 3.4's member flags. The argv parser, the ETCD_* env
// lookup, the config-file reader, --help and the CairnConfig field mapping are
// all derived from it, so a flag is added in exactly one place.

export type FlagKind =
  | 'string'
  | 'bool'
  | 'uint' // Go uint (64-bit)
  | 'uint32'
  | 'uint64'
  | 'int' // Go int (64-bit)
  | 'int64'
  | 'duration' // Go time.Duration; stored as milliseconds
  | 'urls' // flags.UniqueURLs; stored as normalised URL strings
  | 'uniqueStrings' // flags.UniqueStringsValue: comma-separated, deduplicated, sorted
  | 'strings' // flags.StringsValue: comma-separated as given
  | 'select'; // flags.SelectiveStringValue

export type FlagValue = string | boolean | number | string[];

export type Section =
  | 'Member'
  | 'Clustering'
  | 'Security'
  | 'Auth'
  | 'Profiling and Monitoring'
  | 'Logging'
  | 'v2 Proxy (to be deprecated in v4)'
  | 'Experimental feature'
  | 'Unsafe feature'
  | 'TO BE DEPRECATED';

export interface FlagSpec {
  readonly name: string;
  readonly kind: FlagKind;
  /** CairnConfig field; null when the flag is folded into another field. */
  readonly key: string | null;
  readonly default: FlagValue;
  readonly usage: string;
  readonly section: Section;
  /** Default as etcd's --help prints it, when it differs from the value. */
  readonly helpDefault?: string;
  readonly choices?: readonly string[];
  /** Key path in the YAML config file; null: etcd has no file key for it. Default: the flag name. */
  readonly fileKey?: string | null;
  /** Why a non-default value is refused for now ("TLS", ...). */
  readonly unsupported?: string;
  /** etcd defines it but leaves it out of --help. */
  readonly hidden?: boolean;
}

const SAN_CHECK =
  'the check it skips (a peer client certificate SAN against the peer address) is not implemented in Cairn yet';
const DISCOVERY = 'discovery bootstrap is not implemented in Cairn yet; use --initial-cluster';
const PROXY = "etcd's v2 proxy is not part of Cairn";

const f = (spec: FlagSpec): FlagSpec => spec;

export const FLAGS: readonly FlagSpec[] = [
  // Member
  f({
    name: 'name',
    kind: 'string',
    key: 'name',
    default: 'default',
    section: 'Member',
    usage: 'Human-readable name for this member.',
  }),
  f({
    name: 'data-dir',
    kind: 'string',
    key: 'dataDir',
    default: '',
    helpDefault: '${name}.cairn',
    section: 'Member',
    usage: 'Path to the data directory.',
  }),
  f({
    name: 'wal-dir',
    kind: 'string',
    key: 'walDir',
    default: '',
    section: 'Member',
    usage: 'Path to the dedicated wal directory.',
  }),
  f({
    name: 'snapshot-count',
    kind: 'uint64',
    key: 'snapshotCount',
    default: 100000,
    section: 'Member',
    usage: 'Number of committed transactions to trigger a snapshot to disk.',
  }),
  f({
    name: 'heartbeat-interval',
    kind: 'uint',
    key: 'heartbeatIntervalMs',
    default: 100,
    section: 'Member',
    usage: 'Time (in milliseconds) of a heartbeat interval.',
  }),
  f({
    name: 'election-timeout',
    kind: 'uint',
    key: 'electionTimeoutMs',
    default: 1000,
    section: 'Member',
    usage: 'Time (in milliseconds) for an election to timeout. See tuning documentation for details.',
  }),
  f({
    name: 'initial-election-tick-advance',
    kind: 'bool',
    key: 'initialElectionTickAdvance',
    default: true,
    section: 'Member',
    usage: 'Whether to fast-forward initial election ticks on boot for faster election.',
  }),
  f({
    name: 'listen-peer-urls',
    kind: 'urls',
    key: 'listenPeerUrls',
    default: ['http://localhost:2380'],
    section: 'Member',
    usage: 'List of URLs to listen on for peer traffic.',
  }),
  f({
    name: 'listen-client-urls',
    kind: 'urls',
    key: 'listenClientUrls',
    default: ['http://localhost:2379'],
    section: 'Member',
    usage: 'List of URLs to listen on for client traffic.',
  }),
  f({
    name: 'max-snapshots',
    kind: 'uint',
    key: 'maxSnapshots',
    default: 5,
    section: 'Member',
    usage: 'Maximum number of snapshot files to retain (0 is unlimited).',
  }),
  f({
    name: 'max-wals',
    kind: 'uint',
    key: 'maxWals',
    default: 5,
    section: 'Member',
    usage: 'Maximum number of wal files to retain (0 is unlimited).',
  }),
  f({
    name: 'quota-backend-bytes',
    kind: 'int64',
    key: 'quotaBackendBytes',
    default: 0,
    section: 'Member',
    usage: 'Raise alarms when backend size exceeds the given quota (0 defaults to low space quota).',
  }),
  f({
    name: 'backend-batch-interval',
    kind: 'duration',
    key: 'backendBatchIntervalMs',
    default: 0,
    helpDefault: '',
    section: 'Member',
    usage: 'BackendBatchInterval is the maximum time before commit the backend transaction.',
  }),
  f({
    name: 'backend-batch-limit',
    kind: 'int',
    key: 'backendBatchLimit',
    default: 0,
    section: 'Member',
    usage: 'BackendBatchLimit is the maximum operations before commit the backend transaction.',
  }),
  f({
    name: 'max-txn-ops',
    kind: 'uint',
    key: 'maxTxnOps',
    default: 128,
    section: 'Member',
    usage: 'Maximum number of operations permitted in a transaction.',
  }),
  f({
    name: 'max-request-bytes',
    kind: 'uint',
    key: 'maxRequestBytes',
    default: 1572864,
    section: 'Member',
    usage: 'Maximum client request size in bytes the server will accept.',
  }),
  f({
    name: 'max-concurrent-streams',
    kind: 'uint32',
    key: 'maxConcurrentStreams',
    default: 4294967295,
    helpDefault: 'math.MaxUint32',
    section: 'Member',
    usage: 'Maximum concurrent streams that each client can open at a time.',
  }),
  f({
    name: 'grpc-keepalive-min-time',
    kind: 'duration',
    key: 'grpcKeepaliveMinTimeMs',
    default: 5000,
    section: 'Member',
    usage: 'Minimum duration interval that a client should wait before pinging server.',
  }),
  f({
    name: 'grpc-keepalive-interval',
    kind: 'duration',
    key: 'grpcKeepaliveIntervalMs',
    default: 7_200_000,
    section: 'Member',
    usage: 'Frequency duration of server-to-client ping to check if a connection is alive (0 to disable).',
  }),
  f({
    name: 'grpc-keepalive-timeout',
    kind: 'duration',
    key: 'grpcKeepaliveTimeoutMs',
    default: 20000,
    section: 'Member',
    usage: 'Additional duration of wait before closing a non-responsive connection (0 to disable).',
  }),

  // Clustering
  f({
    name: 'initial-advertise-peer-urls',
    kind: 'urls',
    key: 'initialAdvertisePeerUrls',
    default: ['http://localhost:2380'],
    section: 'Clustering',
    usage: "List of this member's peer URLs to advertise to the rest of the cluster.",
  }),
  f({
    name: 'initial-cluster',
    kind: 'string',
    key: 'initialCluster',
    default: 'default=http://localhost:2380',
    section: 'Clustering',
    usage: 'Initial cluster configuration for bootstrapping.',
  }),
  f({
    name: 'initial-cluster-state',
    kind: 'select',
    key: 'initialClusterState',
    default: 'new',
    choices: ['new', 'existing'],
    section: 'Clustering',
    usage: "Initial cluster state ('new' or 'existing').",
  }),
  f({
    name: 'initial-cluster-token',
    kind: 'string',
    key: 'initialClusterToken',
    default: 'etcd-cluster',
    section: 'Clustering',
    usage: 'Initial cluster token for the etcd cluster during bootstrap.',
  }),
  f({
    name: 'advertise-client-urls',
    kind: 'urls',
    key: 'advertiseClientUrls',
    default: ['http://localhost:2379'],
    section: 'Clustering',
    usage: "List of this member's client URLs to advertise to the public.",
  }),
  f({
    name: 'discovery',
    kind: 'string',
    key: 'discovery',
    default: '',
    unsupported: DISCOVERY,
    section: 'Clustering',
    usage: 'Discovery URL used to bootstrap the cluster.',
  }),
  f({
    name: 'discovery-fallback',
    kind: 'select',
    key: 'discoveryFallback',
    default: 'proxy',
    choices: ['proxy', 'exit'],
    unsupported: DISCOVERY,
    section: 'Clustering',
    usage: "Expected behavior ('exit' or 'proxy') when discovery services fails.",
  }),
  f({
    name: 'discovery-proxy',
    kind: 'string',
    key: 'discoveryProxy',
    default: '',
    unsupported: DISCOVERY,
    section: 'Clustering',
    usage: 'HTTP proxy to use for traffic to discovery service.',
  }),
  f({
    name: 'discovery-srv',
    kind: 'string',
    key: 'discoverySrv',
    default: '',
    unsupported: DISCOVERY,
    section: 'Clustering',
    usage: 'DNS srv domain used to bootstrap the cluster.',
  }),
  f({
    name: 'discovery-srv-name',
    kind: 'string',
    key: 'discoverySrvName',
    default: '',
    unsupported: DISCOVERY,
    section: 'Clustering',
    usage: 'Suffix to the dns srv name queried when bootstrapping.',
  }),
  f({
    name: 'strict-reconfig-check',
    kind: 'bool',
    key: 'strictReconfigCheck',
    default: true,
    section: 'Clustering',
    usage: 'Reject reconfiguration requests that would cause quorum loss.',
  }),
  f({
    name: 'pre-vote',
    kind: 'bool',
    key: 'preVote',
    default: false,
    section: 'Clustering',
    usage: 'Enable to run an additional Raft election phase.',
  }),
  f({
    name: 'auto-compaction-retention',
    kind: 'string',
    key: 'autoCompactionRetention',
    default: '0',
    section: 'Clustering',
    usage: 'Auto compaction retention length. 0 means disable auto compaction.',
  }),
  f({
    name: 'auto-compaction-mode',
    kind: 'string',
    key: 'autoCompactionMode',
    default: 'periodic',
    section: 'Clustering',
    usage:
      "Interpret 'auto-compaction-retention' one of: periodic|revision. 'periodic' for duration based retention, defaulting to hours if no time unit is provided (e.g. '5m'). 'revision' for revision number based retention.",
  }),
  f({
    name: 'enable-v2',
    kind: 'bool',
    key: 'enableV2',
    default: false,
    unsupported: 'Cairn serves only the etcd v3 API',
    section: 'Clustering',
    usage: 'Accept etcd V2 client requests.',
  }),

  // Security
  f({
    name: 'cert-file',
    kind: 'string',
    key: 'certFile',
    default: '',
    fileKey: 'client-transport-security.cert-file',
    section: 'Security',
    usage: 'Path to the client server TLS cert file.',
  }),
  f({
    name: 'key-file',
    kind: 'string',
    key: 'keyFile',
    default: '',
    fileKey: 'client-transport-security.key-file',
    section: 'Security',
    usage: 'Path to the client server TLS key file.',
  }),
  f({
    name: 'client-cert-auth',
    kind: 'bool',
    key: 'clientCertAuth',
    default: false,
    fileKey: 'client-transport-security.client-cert-auth',
    section: 'Security',
    usage: 'Enable client cert authentication.',
  }),
  f({
    name: 'client-crl-file',
    kind: 'string',
    key: 'clientCrlFile',
    default: '',
    fileKey: null,
    section: 'Security',
    usage: 'Path to the client certificate revocation list file.',
  }),
  f({
    name: 'client-cert-allowed-hostname',
    kind: 'string',
    key: 'clientCertAllowedHostname',
    default: '',
    fileKey: null,
    section: 'Security',
    usage: 'Allowed TLS hostname for client cert authentication.',
  }),
  f({
    name: 'trusted-ca-file',
    kind: 'string',
    key: 'trustedCaFile',
    default: '',
    fileKey: 'client-transport-security.trusted-ca-file',
    section: 'Security',
    usage: 'Path to the client server TLS trusted CA cert file.',
  }),
  f({
    name: 'auto-tls',
    kind: 'bool',
    key: 'autoTls',
    default: false,
    fileKey: 'client-transport-security.auto-tls',
    section: 'Security',
    usage: 'Client TLS using generated certificates.',
  }),
  f({
    name: 'peer-cert-file',
    kind: 'string',
    key: 'peerCertFile',
    default: '',
    fileKey: 'peer-transport-security.cert-file',
    section: 'Security',
    usage: 'Path to the peer server TLS cert file.',
  }),
  f({
    name: 'peer-key-file',
    kind: 'string',
    key: 'peerKeyFile',
    default: '',
    fileKey: 'peer-transport-security.key-file',
    section: 'Security',
    usage: 'Path to the peer server TLS key file.',
  }),
  f({
    name: 'peer-client-cert-auth',
    kind: 'bool',
    key: 'peerClientCertAuth',
    default: false,
    fileKey: 'peer-transport-security.client-cert-auth',
    section: 'Security',
    usage: 'Enable peer client cert authentication.',
  }),
  f({
    name: 'peer-trusted-ca-file',
    kind: 'string',
    key: 'peerTrustedCaFile',
    default: '',
    fileKey: 'peer-transport-security.trusted-ca-file',
    section: 'Security',
    usage: 'Path to the peer server TLS trusted CA file.',
  }),
  f({
    name: 'peer-cert-allowed-cn',
    kind: 'string',
    key: 'peerCertAllowedCn',
    default: '',
    fileKey: null,
    section: 'Security',
    usage: 'Required CN for client certs connecting to the peer endpoint.',
  }),
  f({
    name: 'peer-cert-allowed-hostname',
    kind: 'string',
    key: 'peerCertAllowedHostname',
    default: '',
    fileKey: null,
    section: 'Security',
    usage: 'Allowed TLS hostname for inter peer authentication.',
  }),
  f({
    name: 'peer-auto-tls',
    kind: 'bool',
    key: 'peerAutoTls',
    default: false,
    fileKey: 'peer-transport-security.auto-tls',
    section: 'Security',
    usage:
      'Peer TLS using self-generated certificates if --peer-key-file and --peer-cert-file are not provided.',
  }),
  f({
    name: 'peer-crl-file',
    kind: 'string',
    key: 'peerCrlFile',
    default: '',
    fileKey: null,
    section: 'Security',
    usage: 'Path to the peer certificate revocation list file.',
  }),
  f({
    name: 'cipher-suites',
    kind: 'strings',
    key: 'cipherSuites',
    default: [],
    helpDefault: '',
    section: 'Security',
    usage:
      'Comma-separated list of supported TLS cipher suites between client/server and peers (empty will be auto-populated by Go).',
  }),
  f({
    name: 'cors',
    kind: 'urls',
    key: 'cors',
    default: ['*'],
    helpDefault: '*',
    section: 'Security',
    usage:
      'Comma-separated whitelist of origins for CORS, or cross-origin resource sharing, (empty or * means allow all).',
  }),
  f({
    name: 'host-whitelist',
    kind: 'uniqueStrings',
    key: 'hostWhitelist',
    default: ['*'],
    helpDefault: '*',
    section: 'Security',
    usage:
      'Acceptable hostnames from HTTP client requests, if server is not secure (empty or * means allow all).',
  }),

  // Auth
  f({
    name: 'auth-token',
    kind: 'string',
    key: 'authToken',
    default: 'simple',
    section: 'Auth',
    usage: "Specify a v3 authentication token type and its options ('simple' or 'jwt').",
  }),
  f({
    name: 'bcrypt-cost',
    kind: 'uint',
    key: 'bcryptCost',
    default: 10,
    section: 'Auth',
    usage:
      'Specify the cost / strength of the bcrypt algorithm for hashing auth passwords. Valid values are between 4 and 31.',
  }),
  f({
    name: 'auth-token-ttl',
    kind: 'uint',
    key: 'authTokenTtlSeconds',
    default: 300,
    section: 'Auth',
    usage: 'Time (in seconds) of the auth-token-ttl.',
  }),

  // Profiling and Monitoring
  f({
    name: 'enable-pprof',
    kind: 'bool',
    key: 'enablePprof',
    default: false,
    unsupported: 'profiling endpoints are not implemented in Cairn yet (use node --cpu-prof)',
    section: 'Profiling and Monitoring',
    usage: 'Enable runtime profiling data via HTTP server. Address is at client URL + "/debug/pprof/"',
  }),
  f({
    name: 'metrics',
    kind: 'string',
    key: 'metrics',
    default: 'basic',
    section: 'Profiling and Monitoring',
    usage: "Set level of detail for exported metrics, specify 'extensive' to include histogram metrics.",
  }),
  f({
    name: 'listen-metrics-urls',
    kind: 'urls',
    key: 'listenMetricsUrls',
    default: [],
    helpDefault: '',
    section: 'Profiling and Monitoring',
    usage: 'List of URLs to listen on for the metrics and health endpoints.',
  }),

  // Logging
  f({
    name: 'logger',
    kind: 'string',
    key: 'logger',
    default: 'capnslog',
    section: 'Logging',
    usage:
      "Specify 'zap' for structured logging or 'capnslog'. Cairn writes structured JSON lines with either.",
  }),
  f({
    name: 'log-outputs',
    kind: 'uniqueStrings',
    key: 'logOutputs',
    default: ['default'],
    helpDefault: 'default',
    section: 'Logging',
    usage:
      "Specify 'stdout' or 'stderr' to skip journald logging even when running under systemd, or list of comma separated output targets.",
  }),
  f({
    name: 'log-level',
    kind: 'string',
    key: 'logLevel',
    default: 'info',
    section: 'Logging',
    usage: 'Configures log level. Only supports debug, info, warn, error, panic, or fatal.',
  }),
  f({
    name: 'log-output',
    kind: 'uniqueStrings',
    key: null,
    default: ['default'],
    hidden: true,
    section: 'Logging',
    usage: "DEPRECATED: use '--log-outputs'.",
  }),

  // v2 Proxy
  f({
    name: 'proxy',
    kind: 'select',
    key: 'proxy',
    default: 'off',
    choices: ['off', 'readonly', 'on'],
    unsupported: PROXY,
    section: 'v2 Proxy (to be deprecated in v4)',
    usage: "Proxy mode setting ('off', 'readonly' or 'on').",
  }),
  f({
    name: 'proxy-failure-wait',
    kind: 'uint',
    key: 'proxyFailureWaitMs',
    default: 5000,
    unsupported: PROXY,
    section: 'v2 Proxy (to be deprecated in v4)',
    usage: 'Time (in milliseconds) an endpoint will be held in a failed state.',
  }),
  f({
    name: 'proxy-refresh-interval',
    kind: 'uint',
    key: 'proxyRefreshIntervalMs',
    default: 30000,
    unsupported: PROXY,
    section: 'v2 Proxy (to be deprecated in v4)',
    usage: 'Time (in milliseconds) of the endpoints refresh interval.',
  }),
  f({
    name: 'proxy-dial-timeout',
    kind: 'uint',
    key: 'proxyDialTimeoutMs',
    default: 1000,
    unsupported: PROXY,
    section: 'v2 Proxy (to be deprecated in v4)',
    usage: 'Time (in milliseconds) for a dial to timeout.',
  }),
  f({
    name: 'proxy-write-timeout',
    kind: 'uint',
    key: 'proxyWriteTimeoutMs',
    default: 5000,
    unsupported: PROXY,
    section: 'v2 Proxy (to be deprecated in v4)',
    usage: 'Time (in milliseconds) for a write to timeout.',
  }),
  f({
    name: 'proxy-read-timeout',
    kind: 'uint',
    key: 'proxyReadTimeoutMs',
    default: 0,
    unsupported: PROXY,
    section: 'v2 Proxy (to be deprecated in v4)',
    usage: 'Time (in milliseconds) for a read to timeout.',
  }),

  // Experimental
  f({
    name: 'experimental-initial-corrupt-check',
    kind: 'bool',
    key: 'experimentalInitialCorruptCheck',
    default: false,
    section: 'Experimental feature',
    usage: 'Enable to check data corruption before serving any client/peer traffic.',
  }),
  f({
    name: 'experimental-corrupt-check-time',
    kind: 'duration',
    key: 'experimentalCorruptCheckTimeMs',
    default: 0,
    section: 'Experimental feature',
    usage: 'Duration of time between cluster corruption check passes.',
  }),
  f({
    name: 'experimental-enable-v2v3',
    kind: 'string',
    key: 'experimentalEnableV2v3',
    default: '',
    unsupported: 'Cairn serves only the etcd v3 API',
    section: 'Experimental feature',
    usage: 'Serve v2 requests through the v3 backend under a given prefix.',
  }),
  f({
    name: 'experimental-backend-bbolt-freelist-type',
    kind: 'string',
    key: 'experimentalBackendBboltFreelistType',
    default: 'array',
    section: 'Experimental feature',
    usage:
      'ExperimentalBackendFreelistType specifies the type of freelist that boltdb backend uses(array and map are supported types). Ignored by Cairn (RocksDB backend).',
  }),
  f({
    name: 'experimental-enable-lease-checkpoint',
    kind: 'bool',
    key: 'experimentalEnableLeaseCheckpoint',
    default: false,
    section: 'Experimental feature',
    usage:
      'ExperimentalEnableLeaseCheckpoint enables primary lessor to persist lease remainingTTL to prevent indefinite auto-renewal of long lived leases.',
  }),
  f({
    name: 'experimental-enable-lease-checkpoint-persist',
    kind: 'bool',
    key: 'experimentalEnableLeaseCheckpointPersist',
    default: false,
    hidden: true,
    section: 'Experimental feature',
    usage: 'Enable persisting remainingTTL to prevent indefinite auto-renewal of long lived leases.',
  }),
  f({
    name: 'experimental-compaction-batch-limit',
    kind: 'int',
    key: 'experimentalCompactionBatchLimit',
    default: 1000,
    section: 'Experimental feature',
    usage: 'ExperimentalCompactionBatchLimit sets the maximum revisions deleted in each compaction batch.',
  }),
  f({
    name: 'experimental-peer-skip-client-san-verification',
    kind: 'bool',
    key: 'experimentalPeerSkipClientSanVerification',
    default: false,
    unsupported: SAN_CHECK,
    fileKey: null,
    section: 'Experimental feature',
    usage: 'Skip verification of SAN field in client certificate for peer connections.',
  }),
  f({
    name: 'experimental-watch-progress-notify-interval',
    kind: 'duration',
    key: 'experimentalWatchProgressNotifyIntervalMs',
    default: 600_000,
    section: 'Experimental feature',
    usage: 'Duration of periodical watch progress notification.',
  }),
  f({
    name: 'experimental-warning-apply-duration',
    kind: 'duration',
    key: 'experimentalWarningApplyDurationMs',
    default: 100,
    section: 'Experimental feature',
    usage: 'Warning is generated if requests take more than this duration.',
  }),

  // Unsafe
  f({
    name: 'force-new-cluster',
    kind: 'bool',
    key: 'forceNewCluster',
    default: false,
    section: 'Unsafe feature',
    usage: 'Force to create a new one-member cluster.',
  }),
  f({
    name: 'unsafe-no-fsync',
    kind: 'bool',
    key: 'unsafeNoFsync',
    default: false,
    hidden: true,
    section: 'Unsafe feature',
    usage: 'Disables fsync, unsafe, will cause data loss.',
  }),
  f({
    name: 'enable-grpc-gateway',
    kind: 'bool',
    key: 'enableGrpcGateway',
    default: true,
    hidden: true,
    section: 'Unsafe feature',
    usage: 'Enable GRPC gateway.',
  }),

  // To be deprecated
  f({
    name: 'debug',
    kind: 'bool',
    key: null,
    default: false,
    section: 'TO BE DEPRECATED',
    usage:
      "Enable debug-level logging for etcd. [WARN] Will be deprecated in v3.5. Use '--log-level=debug' instead.",
  }),
  f({
    name: 'log-package-levels',
    kind: 'string',
    key: null,
    default: '',
    section: 'TO BE DEPRECATED',
    usage:
      "Specify a particular log level for each etcd package (eg: 'etcdmain=CRITICAL,etcdserver=DEBUG'). Ignored by Cairn.",
  }),

  // Handled by the loader itself.
  f({
    name: 'config-file',
    kind: 'string',
    key: null,
    default: '',
    fileKey: null,
    hidden: true,
    section: 'Member',
    usage: 'Path to the server configuration file.',
  }),
  f({
    name: 'version',
    kind: 'bool',
    key: null,
    default: false,
    fileKey: null,
    hidden: true,
    section: 'Member',
    usage: 'Print the version and exit.',
  }),
];

/** Flags etcd still accepts, only to warn that they are ignored (pkg/flags.IgnoredFlag: boolean-like). */
export const IGNORED_FLAGS: readonly string[] = [
  'cluster-active-size',
  'cluster-remove-delay',
  'cluster-sync-interval',
  'config',
  'force',
  'max-result-buffer',
  'max-retry-attempts',
  'peer-heartbeat-interval',
  'peer-election-timeout',
  'retry-interval',
  'snapshot',
  'v',
  'vv',
  'test.coverprofile',
  'test.outputdir',
];

export const FLAGS_BY_NAME: ReadonlyMap<string, FlagSpec> = new Map(FLAGS.map((s) => [s.name, s]));

export const FLAGS_BY_KEY: ReadonlyMap<string, FlagSpec> = new Map(
  FLAGS.filter((s) => s.key !== null).map((s) => [s.key as string, s]),
);

/** The flag that sets CairnConfig field `key`, for messages. */
export function flagForKey(key: string): string {
  return FLAGS_BY_KEY.get(key)?.name ?? key;
}

/** etcd's flags.FlagToEnv: --data-dir -> ETCD_DATA_DIR. */
export function flagToEnv(prefix: string, name: string): string {
  return `${prefix}_${name.toUpperCase().replace(/-/g, '_')}`;
}

export function isDefault(spec: FlagSpec, value: FlagValue): boolean {
  return sameValue(spec.default, value);
}

export function sameValue(a: FlagValue, b: FlagValue): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}
