// loadConfig: argv -> (config file | ETCD_* env + argv) -> derived values ->
// class-validator -> plain CairnConfig, following etcdmain's order of things.
import { validateSync, ValidationError } from 'class-validator';
import { parseArgv } from './argv';
import { CairnConfig } from './cairn-config';
import { parseAuthToken } from './auth-token';
import { resolveAutoCompaction } from './compaction';
import { readConfigFile } from './config-file';
import { ConfigError } from './config-error';
import { configFileFromEnv, readEnv } from './env';
import { flagForKey, FLAGS, FlagValue, isDefault, FLAGS_BY_NAME } from './flags';
import { parseInitialCluster, parseUrl } from './urls';

export interface LoadConfigOptions {
  /**
   * Whether the member already holds data in `dataDir`. etcd checks
   * --initial-cluster against --name and --initial-advertise-peer-urls only
   * when bootstrapping (no WAL yet); the entrypoint passes a probe of its
   * storage here. Default: always check.
   */
  isMemberInitialized?: (dataDir: string) => boolean;
}

const DEFAULT_QUOTA_BYTES = 2 * 1024 ** 3;
const MAX_QUOTA_BYTES = 8 * 1024 ** 3;
/** embed.NewConfig's initial cluster, which a non-default --name replaces (by value, as etcd does). */
const DEFAULT_INITIAL_CLUSTER = 'default=http://localhost:2380';

export function loadConfig(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  options: LoadConfigOptions = {},
): CairnConfig {
  const cmdline = parseArgv(argv);
  const values = new Map<string, FlagValue>(FLAGS.map((s) => [s.name, s.default]));
  if (cmdline.help) return build(values, 'help', '', []);
  if (cmdline.values.get('version') === true) return build(values, 'version', '', []);

  const warnings = [...cmdline.warnings];
  const configFile = (cmdline.values.get('config-file') as string | undefined) || configFileFromEnv(env);
  if (configFile) {
    // etcd: with a config file, other flags are still syntax-checked but their
    // values, and all ETCD_* variables, are ignored.
    const file = readConfigFile(configFile);
    for (const [name, v] of file.values) values.set(name, v);
    warnings.push(...file.warnings);
    const ignored = [...cmdline.values.keys()].filter((n) => n !== 'config-file');
    if (ignored.length > 0) {
      warnings.push(
        `loaded server configuration from ${configFile}; other configuration command line flags (${ignored.map((n) => `--${n}`).join(', ')}) and environment variables are ignored`,
      );
    }
  } else {
    const fromEnv = readEnv(env, cmdline.values);
    warnings.push(...fromEnv.warnings);
    for (const [name, v] of [...fromEnv.values, ...cmdline.values]) values.set(name, v);
    // etcdmain: an explicit --listen-client-urls drops the default advertise URL.
    const given = (n: string) => fromEnv.values.has(n) || cmdline.values.has(n);
    if (given('listen-client-urls') && !given('advertise-client-urls'))
      values.set('advertise-client-urls', []);
  }
  applyEtcdDefaults(values, warnings);

  const config = build(values, 'serve', configFile, warnings);
  throwIfInvalid(validateSync(config, { strictGroups: true }));
  if (!options.isMemberInitialized?.(config.dataDir)) {
    throwIfInvalid(validateSync(config, { groups: ['bootstrap'] }));
  }
  return resolveDerived(config);
}

/** The defaults etcd derives from other values after parsing. */
function applyEtcdDefaults(values: Map<string, FlagValue>, warnings: string[]): void {
  const get = (n: string) => values.get(n)!;
  const logOutput = get('log-output') as string[];
  if (!isDefault(FLAGS_BY_NAME.get('log-output')!, logOutput)) {
    warnings.push(
      `Deprecated '--log-output' flag is set to ${JSON.stringify(logOutput)}; use '--log-outputs'`,
    );
    values.set('log-outputs', logOutput);
  }
  if (get('debug') === true) values.set('log-level', 'debug');
  if (get('log-package-levels') !== '') warnings.push('--log-package-levels is ignored; use --log-level');
  const name = get('name') as string;
  if (name !== 'default' && get('initial-cluster') === DEFAULT_INITIAL_CLUSTER) {
    // embed.Config.InitialClusterFromName
    const apurls = get('initial-advertise-peer-urls') as string[];
    values.set('initial-cluster', apurls.map((u) => `${name || 'default'}=${u}`).join(','));
  }
  if (get('data-dir') === '') values.set('data-dir', `${name}.cairn`);
}

function build(
  values: Map<string, FlagValue>,
  command: CairnConfig['command'],
  configFile: string,
  warnings: string[],
): CairnConfig {
  const config = Object.assign(new CairnConfig(), { command, configFile, warnings });
  for (const spec of FLAGS) {
    if (spec.key === null) continue;
    const v = values.get(spec.name)!;
    const isUrlList = spec.kind === 'urls' && spec.name !== 'cors';
    (config as any)[spec.key] = isUrlList ? (v as string[]).map(parseUrl) : v;
  }
  config.initialClusterMap = {};
  config.quotaBytes = DEFAULT_QUOTA_BYTES;
  config.autoCompaction = null;
  config.authTokenSpec = { type: 'simple' };
  return config;
}

function throwIfInvalid(errors: ValidationError[]): void {
  if (errors.length === 0) return;
  const problems = errors.flatMap((e) => Object.values(e.constraints ?? {}));
  throw new ConfigError(problems[0], flagForKey(errors[0].property), problems);
}

function resolveDerived(config: CairnConfig): CairnConfig {
  config.initialClusterMap = parseInitialCluster(config.initialCluster);
  const q = config.quotaBackendBytes;
  config.quotaBytes = q < 0 ? null : q === 0 ? DEFAULT_QUOTA_BYTES : q;
  if (q > MAX_QUOTA_BYTES) {
    config.warnings.push(
      `quota exceeds the maximum value: --quota-backend-bytes=${q} is above the suggested maximum ${MAX_QUOTA_BYTES} (8 GiB)`,
    );
  }
  config.autoCompaction = resolveAutoCompaction(config.autoCompactionMode, config.autoCompactionRetention);
  config.authTokenSpec = parseAuthToken(config.authToken);
  return { ...config };
}
