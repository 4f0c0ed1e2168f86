// The member's configuration: one field per etcd flag (camelCase; durations and
// millisecond flags carry an `Ms` suffix), plus values derived for the member.
// Decorators carry the validation; validators.ts holds etcd's cross-flag rules.
import 'reflect-metadata';
import { IsBoolean, IsString } from 'class-validator';
import { AuthTokenSpec } from './auth-token';
import { AutoCompaction } from './compaction';
import { InitialCluster, ParsedUrl } from './urls';
import {
  AdvertiseClientUrlsRequired,
  AtLeast,
  AuthTokenOption,
  BcryptCost,
  CipherSuites,
  CompactionRetention,
  ElectionRule,
  HeartbeatRule,
  InitialClusterSyntax,
  LogOutputs,
  MatchesBootstrap,
  NonNegativeDuration,
  NotEmpty,
  NotSupportedYet,
  OneOf,
  ServingUrls,
} from './validators';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'dpanic', 'panic', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export class CairnConfig {
  /** 'serve' normally; 'help' / 'version' when asked (then nothing else was validated). */
  command!: 'serve' | 'help' | 'version';

  // ---- logging (checked first, as etcd's setupLogging runs first)
  @OneOf(['zap', 'capnslog'], (v) => `unknown logger option ${JSON.stringify(v)}`)
  logger!: 'zap' | 'capnslog';
  /** Effective level: --log-level, or 'debug' when the deprecated --debug is set. */
  @OneOf(
    LOG_LEVELS,
    (v) => `--log-level: unknown level ${JSON.stringify(v)} (only supports ${LOG_LEVELS.join(', ')})`,
  )
  logLevel!: LogLevel;
  /** 'default' | 'stderr' | 'stdout' | file path (zap only); 'default' means stderr. */
  @LogOutputs()
  logOutputs!: string[];

  // ---- member
  @NotEmpty('--name must not be empty')
  name!: string;
  /** Resolved: `${name}.cairn` when --data-dir is empty. */
  @IsString() dataDir!: string;
  /** '' = inside the data dir. */
  @IsString() walDir!: string;
  @AtLeast(1) snapshotCount!: number;
  @HeartbeatRule() heartbeatIntervalMs!: number;
  @ElectionRule() electionTimeoutMs!: number;
  @IsBoolean() initialElectionTickAdvance!: boolean;
  @ServingUrls('bind', { tls: true }) listenPeerUrls!: ParsedUrl[];
  @ServingUrls('bind', { tls: true }) listenClientUrls!: ParsedUrl[];
  @AtLeast(0) maxSnapshots!: number;
  @AtLeast(0) maxWals!: number;
  /** As given: 0 = default 2 GiB, negative = no quota. See `quotaBytes`. */
  quotaBackendBytes!: number;
  @NonNegativeDuration() backendBatchIntervalMs!: number;
  @AtLeast(0) backendBatchLimit!: number;
  @AtLeast(1) maxTxnOps!: number;
  @AtLeast(1) maxRequestBytes!: number;
  @AtLeast(1) maxConcurrentStreams!: number;
  @NonNegativeDuration() grpcKeepaliveMinTimeMs!: number;
  @NonNegativeDuration() grpcKeepaliveIntervalMs!: number;
  @NonNegativeDuration() grpcKeepaliveTimeoutMs!: number;

  // ---- clustering
  @ServingUrls('advertise', { tls: true }) initialAdvertisePeerUrls!: ParsedUrl[];
  /** As given, or derived from --name as etcd does; parsed in `initialClusterMap`. */
  @InitialClusterSyntax()
  @MatchesBootstrap({ groups: ['bootstrap'] })
  initialCluster!: string;
  @OneOf(['new', 'existing'], (v) => `unexpected clusterState ${JSON.stringify(v)}`)
  initialClusterState!: 'new' | 'existing';
  @IsString() initialClusterToken!: string;
  @AdvertiseClientUrlsRequired()
  @ServingUrls('advertise', { tls: true })
  advertiseClientUrls!: ParsedUrl[];
  @NotSupportedYet() discovery!: string;
  @NotSupportedYet() discoveryFallback!: string;
  @NotSupportedYet() discoveryProxy!: string;
  @NotSupportedYet() discoverySrv!: string;
  @NotSupportedYet() discoverySrvName!: string;
  @IsBoolean() strictReconfigCheck!: boolean;
  @IsBoolean() preVote!: boolean;
  @OneOf(['periodic', 'revision'], (v) => `unknown auto-compaction-mode ${JSON.stringify(v)}`)
  autoCompactionMode!: 'periodic' | 'revision';
  /** As given; resolved in `autoCompaction`. */
  @CompactionRetention() autoCompactionRetention!: string;
  @NotSupportedYet() enableV2!: boolean;

  // ---- security (client and peer TLS; see tls-files.ts for how they are loaded)
  @IsString() certFile!: string;
  @IsString() keyFile!: string;
  @IsBoolean() clientCertAuth!: boolean;
  @IsString() clientCrlFile!: string;
  @IsString() clientCertAllowedHostname!: string;
  @IsString() trustedCaFile!: string;
  @IsBoolean() autoTls!: boolean;
  @IsString() peerCertFile!: string;
  @IsString() peerKeyFile!: string;
  @IsBoolean() peerClientCertAuth!: boolean;
  @IsString() peerTrustedCaFile!: string;
  @IsString() peerCertAllowedCn!: string;
  @IsString() peerCertAllowedHostname!: string;
  @IsBoolean() peerAutoTls!: boolean;
  @IsString() peerCrlFile!: string;
  /** Go's names, as given; see cipher-suites.ts. */
  @CipherSuites() cipherSuites!: string[];
  /** Allowed CORS origins ('*' = all), for the HTTP gateway. */
  cors!: string[];
  hostWhitelist!: string[];

  // ---- auth
  /** As given; resolved in `authTokenSpec`. */
  @AuthTokenOption() authToken!: string;
  @BcryptCost() bcryptCost!: number;
  @AtLeast(0) authTokenTtlSeconds!: number;

  // ---- profiling and monitoring
  @NotSupportedYet() enablePprof!: boolean;
  @OneOf(
    ['basic', 'extensive'],
    (v) => `--metrics: unknown metrics level ${JSON.stringify(v)} (basic or extensive)`,
  )
  metrics!: 'basic' | 'extensive';
  @ServingUrls('bind') listenMetricsUrls!: ParsedUrl[];

  // ---- v2 proxy (never in Cairn)
  @NotSupportedYet() proxy!: string;
  @NotSupportedYet() proxyFailureWaitMs!: number;
  @NotSupportedYet() proxyRefreshIntervalMs!: number;
  @NotSupportedYet() proxyDialTimeoutMs!: number;
  @NotSupportedYet() proxyWriteTimeoutMs!: number;
  @NotSupportedYet() proxyReadTimeoutMs!: number;

  // ---- experimental / unsafe
  @IsBoolean() experimentalInitialCorruptCheck!: boolean;
  @NonNegativeDuration() experimentalCorruptCheckTimeMs!: number;
  @NotSupportedYet() experimentalEnableV2v3!: string;
  /** Accepted for compatibility; meaningless for Cairn's RocksDB backend. */
  experimentalBackendBboltFreelistType!: string;
  @IsBoolean() experimentalEnableLeaseCheckpoint!: boolean;
  @IsBoolean() experimentalEnableLeaseCheckpointPersist!: boolean;
  @AtLeast(0) experimentalCompactionBatchLimit!: number;
  @NotSupportedYet() experimentalPeerSkipClientSanVerification!: boolean;
  @NonNegativeDuration() experimentalWatchProgressNotifyIntervalMs!: number;
  @NonNegativeDuration() experimentalWarningApplyDurationMs!: number;
  @IsBoolean() forceNewCluster!: boolean;
  @IsBoolean() unsafeNoFsync!: boolean;
  @IsBoolean() enableGrpcGateway!: boolean;

  // ---- derived
  /** --initial-cluster parsed: member name -> peer URLs (sorted). */
  initialClusterMap!: InitialCluster;
  /** Backend quota in bytes: 0 -> 2 GiB default; null when --quota-backend-bytes < 0 (no quota). */
  quotaBytes!: number | null;
  /** null when --auto-compaction-retention is 0. */
  autoCompaction!: AutoCompaction | null;
  /** --auth-token parsed. */
  authTokenSpec!: AuthTokenSpec;
  /** The config file the values came from ('' when from flags and environment). */
  configFile!: string;
  /** Things the member should log at start (ignored flags, unknown env vars, quota above 8 GiB, ...). */
  warnings!: string[];
}
