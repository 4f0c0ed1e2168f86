// ETCD_* environment variables, as etcd 3.4's pkg/flags.SetFlagsFromEnv applies
// them: only for flags not given on the command line, and a variable that names a
// flag also given on the command line is an error (etcd exits with "conflicting
// environment variable ... is shadowed"), not a silent override. Empty variables
// count as unset. CAIRN_* is accepted as an alias of ETCD_* (ETCD_* wins).
import { ConfigError } from './config-error';
import { FLAGS, FlagValue, flagToEnv } from './flags';
import { parseFlagValue } from './flag-values';

export const ENV_PREFIXES = ['ETCD', 'CAIRN'] as const;

/** The config file named by ETCD_CONFIG_FILE (or CAIRN_CONFIG_FILE), if any. */
export function configFileFromEnv(env: NodeJS.ProcessEnv): string {
  return env.ETCD_CONFIG_FILE || env.CAIRN_CONFIG_FILE || '';
}

export interface EnvResult {
  readonly values: Map<string, FlagValue>;
  readonly warnings: string[];
}

export function readEnv(env: NodeJS.ProcessEnv, fromArgv: ReadonlyMap<string, FlagValue>): EnvResult {
  const values = new Map<string, FlagValue>();
  const warnings: string[] = [];
  const recognized = new Set<string>();
  for (const spec of FLAGS) {
    for (const prefix of ENV_PREFIXES) {
      const key = flagToEnv(prefix, spec.name);
      const raw = env[key];
      if (raw === undefined || raw === '') continue;
      recognized.add(key);
      if (values.has(spec.name) || spec.name === 'version' || spec.name === 'config-file') continue;
      if (fromArgv.has(spec.name)) {
        throw new ConfigError(
          `conflicting environment variable ${JSON.stringify(key)} is shadowed by corresponding command-line flag (either unset environment variable or disable flag)`,
          spec.name,
        );
      }
      try {
        values.set(spec.name, parseFlagValue(spec, raw, spec.default));
      } catch (e) {
        throw new ConfigError(
          `invalid value ${JSON.stringify(raw)} for ${key}: ${(e as Error).message}`,
          spec.name,
        );
      }
    }
  }
  for (const [key, value] of Object.entries(env)) {
    if (key.startsWith('ETCD_') && !recognized.has(key)) {
      warnings.push(`unrecognized environment variable ${key}=${value}`);
    }
  }
  return { values, warnings };
}
