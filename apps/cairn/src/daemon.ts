import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startGrpcServers, startMetricsServers } from '../../../libs/api/src';
import { JwtTokenProvider, TokenProvider } from '../../../libs/auth/src';
import { Member, MemberRemovedError } from '../../../libs/server/src';
import { CairnConfig, exitOnConfigError, formatConfigHelp, formatVersion, loadConfig } from './config';
import { manageHeapGrowth } from './heap-growth';
import { Logger, createLogger } from './logging';
import { loadClientTls, loadPeerTls } from './tls-files';

/** A data directory holding a member already: etcd then ignores the --initial-* flags. */
const isMemberInitialized = (dataDir: string) => existsSync(join(dataDir, 'member'));

/** Parses flags, starts the member and its client listeners, and stops cleanly on SIGINT/SIGTERM. */
export async function runDaemon(argv: string[]): Promise<void> {
  const config = exitOnConfigError(() => loadConfig(argv, process.env, { isMemberInitialized }));
  if (config.command === 'help') return void process.stdout.write(formatConfigHelp());
  if (config.command === 'version') return void process.stdout.write(formatVersion());

  const logger = createLogger(config);
  // Node prints its process warnings (e.g. DEP0123 for TLS to a peer at an IP address) as plain
  // text on stderr; the member's log stays JSON lines.
  process.removeAllListeners('warning');
  process.on('warning', (w: Error & { code?: string }) => logger.warn(w.message, { code: w.code ?? w.name }));
  for (const warning of config.warnings) logger.warn(warning);
  manageHeapGrowth(logger);
  try {
    await serve(config, logger);
  } catch (err) {
    if (err instanceof MemberRemovedError) {
      logRemoved(config, logger);
      logger.flush();
      process.exit(0);
    }
    logger.error('failed to start member', { error: err instanceof Error ? err.message : String(err) });
    logger.flush();
    process.exit(1);
  }
}

async function serve(config: CairnConfig, logger: Logger): Promise<void> {
  logger.info('starting member', {
    name: config.name,
    'data-dir': config.dataDir,
    'listen-client-urls': config.listenClientUrls.map((u) => u.url),
  });
  // Certificates are checked before anything starts: a bad one stops the member with the reason.
  const tls = await loadClientTls(config, logger);
  const peerTls = await loadPeerTls(config, logger);
  const member = await Member.start({
    name: config.name,
    dataDir: config.dataDir,
    initialCluster: Object.fromEntries(
      Object.entries(config.initialClusterMap).map(([name, urls]) => [name, urls.map((u) => u.url)]),
    ),
    initialClusterToken: config.initialClusterToken,
    initialClusterState: config.initialClusterState,
    forceNewCluster: config.forceNewCluster,
    snapshotCount: config.snapshotCount,
    strictReconfigCheck: config.strictReconfigCheck,
    peerListeners: config.listenPeerUrls.map((u) => ({
      host: u.host,
      port: u.port,
      tls: u.scheme === 'https',
    })),
    peerTls,
    clientUrls: config.advertiseClientUrls.map((u) => u.url),
    maxRequestBytes: config.maxRequestBytes,
    maxTxnOps: config.maxTxnOps,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    electionTimeoutMs: config.electionTimeoutMs,
    autoCompaction: config.autoCompaction,
    quotaBytes: config.quotaBytes,
    watchProgressNotifyIntervalMs: config.experimentalWatchProgressNotifyIntervalMs,
    tokenProvider: tokenProvider(config),
    authTokenTtlSeconds: config.authTokenTtlSeconds,
    bcryptCost: config.bcryptCost,
    clientCertAuth: config.clientCertAuth && tls !== undefined,
    initialCorruptCheck: config.experimentalInitialCorruptCheck,
    corruptCheckIntervalMs: config.experimentalCorruptCheckTimeMs,
    logger,
  });
  // As etcd: clients are served once this member's attributes are committed, and a member that
  // learns meanwhile that it was removed stops instead.
  const removed = await Promise.race([member.published.then(() => false), member.removed.then(() => true)]);
  if (removed) {
    await member.stop();
    throw new MemberRemovedError();
  }
  const servers = await startGrpcServers(member, {
    listeners: config.listenClientUrls.map((u) => ({
      host: u.host,
      port: u.port,
      tls: u.scheme === 'https',
    })),
    tls,
    limits: { maxTxnOps: config.maxTxnOps, maxRequestBytes: config.maxRequestBytes },
    logger,
    keepaliveMinTimeMs: config.grpcKeepaliveMinTimeMs,
    keepaliveIntervalMs: config.grpcKeepaliveIntervalMs,
    keepaliveTimeoutMs: config.grpcKeepaliveTimeoutMs,
    maxConcurrentStreams: config.maxConcurrentStreams,
  });
  const metrics = await startMetricsServers(
    member,
    config.listenMetricsUrls.map((u) => ({ host: u.host, port: u.port })),
  );
  logger.info('ready to serve client requests', {
    'member-id': member.identity.memberId.toString(16),
    'cluster-id': member.identity.clusterId.toString(16),
    'advertise-client-urls': config.advertiseClientUrls.map((u) => u.url),
  });

  let stopping = false;
  const shutdown = async (then: () => void) => {
    if (stopping) return;
    stopping = true;
    await Promise.all([servers.close(), metrics.close()]);
    await member.stop();
    then();
  };
  const exit = () => (logger.flush(), process.exit(0));
  const onSignal = (signal: string) => {
    logger.info('received signal; shutting down', { signal });
    void shutdown(exit);
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  // As etcd 3.4: a member removed from its cluster says so and stops, with exit status 0.
  void member.removed.then(() => {
    if (stopping) return;
    logRemoved(config, logger);
    void shutdown(exit);
  });
}

/** etcd's two lines when a member finds it was removed from its cluster. */
function logRemoved(config: CairnConfig, logger: Logger): void {
  logger.error(new MemberRemovedError().message);
  logger.info('the data-dir used by this member must be removed', { 'data-dir': config.dataDir });
}

/** --auth-token jwt,...: the keys are read (and checked) at start; simple tokens are the member's default. */
function tokenProvider(config: CairnConfig): TokenProvider | undefined {
  const spec = config.authTokenSpec;
  if (spec.type === 'simple') return undefined;
  return JwtTokenProvider.fromFiles(spec.signMethod, spec.publicKeyFile, spec.privateKeyFile, spec.ttlMs);
}
