// Custom class-validator decorators for the rules etcd checks across flags.
// Messages reproduce etcd's wording where etcd has one.
import { registerDecorator, ValidationArguments, ValidationOptions } from 'class-validator';
import { parseAuthToken } from './auth-token';
import { cipherSuitesError } from './cipher-suites';
import { resolveAutoCompaction } from './compaction';
import { FLAGS_BY_KEY, isDefault, FlagValue } from './flags';
import { bootstrapProblem, checkBindUrl, checkHostUrl, parseInitialCluster, ParsedUrl } from './urls';

type Check = (value: any, obj: any) => string | null;

/** Registers a property decorator from a function returning an error message or null. */
function rule(name: string, check: Check, options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) => {
    let last: string | null = null;
    registerDecorator({
      name,
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate(value: unknown, args: ValidationArguments) {
          last = check(value, args.object);
          return last === null;
        },
        defaultMessage(args: ValidationArguments) {
          return check(args.value, args.object) ?? last ?? `${name} failed`;
        },
      },
    });
  };
}

function flagOf(key: string): string {
  const spec = FLAGS_BY_KEY.get(key);
  return spec ? spec.name : key;
}

/** Flags later work will implement: parsed now, refused unless left at etcd's default. */
export function NotSupportedYet(): PropertyDecorator {
  return (target, key) =>
    rule('notSupportedYet', (given: FlagValue | ParsedUrl[]) => {
      const spec = FLAGS_BY_KEY.get(key as string)!;
      // URL lists arrive parsed; compare their normalised strings
      const value = Array.isArray(given) ? given.map((x) => (typeof x === 'string' ? x : x.url)) : given;
      if (isDefault(spec, value)) return null;
      const shown = Array.isArray(value) ? value.join(',') : String(value);
      return `--${spec.name}=${shown} is not supported yet: ${spec.unsupported}`;
    })(target, key);
}

/** An unsigned integer flag with a lower bound (etcd itself accepts 0 for some; Cairn does not). */
export function AtLeast(min: number, why = ''): PropertyDecorator {
  return (target, key) =>
    rule('atLeast', (value: number) =>
      Number.isInteger(value) && value >= min
        ? null
        : `--${flagOf(key as string)} must be >= ${min} (set to ${value})${why}`,
    )(target, key);
}

/** Go durations may be negative; none of etcd's duration flags means anything negative. */
export function NonNegativeDuration(): PropertyDecorator {
  return (target, key) =>
    rule('nonNegativeDuration', (value: number) =>
      value >= 0 ? null : `--${flagOf(key as string)} must not be negative (set to ${value}ms)`,
    )(target, key);
}

export function OneOf(values: readonly string[], message: (v: string) => string): PropertyDecorator {
  return rule('oneOf', (value: string) => (values.includes(value) ? null : message(value)));
}

/** embed.Config.Validate: tick and election bounds. */
export function HeartbeatRule(): PropertyDecorator {
  return rule('heartbeat', (v: number) => (v > 0 ? null : `--heartbeat-interval must be >0 (set to ${v}ms)`));
}

export const MAX_ELECTION_MS = 50000;

export function ElectionRule(): PropertyDecorator {
  return rule('election', (v: number, o: { heartbeatIntervalMs: number }) => {
    if (v <= 0) return `--election-timeout must be >0 (set to ${v}ms)`;
    if (5 * o.heartbeatIntervalMs > v) {
      return `--election-timeout[${v}ms] should be at least as 5 times as --heartbeat-interval[${o.heartbeatIntervalMs}ms]`;
    }
    if (v > MAX_ELECTION_MS) {
      return `--election-timeout[${v}ms] is too long, and should be set less than ${MAX_ELECTION_MS}ms`;
    }
    return null;
  });
}

/**
 * URLs Cairn will listen on or advertise: http, and https where TLS applies (client and peer
 * URLs; unix sockets come later), listeners need an IP or "localhost", advertised URLs need a host.
 */
export function ServingUrls(role: 'bind' | 'advertise', opts: { tls?: boolean } = {}): PropertyDecorator {
  return (target, key) =>
    rule('servingUrls', (urls: ParsedUrl[]) => {
      const flag = flagOf(key as string);
      for (const u of urls) {
        if (u.scheme !== 'http' && !(opts.tls && u.scheme === 'https')) {
          return `--${flag}=${u.url}: ${u.scheme}:// URLs are not supported yet (${u.scheme.startsWith('https') || u.scheme === 'unixs' ? 'TLS' : 'unix sockets'} is not implemented in Cairn yet); use http://`;
        }
        const bad = role === 'bind' ? checkBindUrl(u) : checkHostUrl(u);
        if (bad)
          return role === 'bind' ? bad : `--${flag} ${JSON.stringify(u.url)} must be "host:port" (${bad})`;
      }
      return null;
    })(target, key);
}

/** embed.ErrUnsetAdvertiseClientURLsFlag (the loader empties the list when it applies). */
export function AdvertiseClientUrlsRequired(): PropertyDecorator {
  return rule('advertiseRequired', (urls: ParsedUrl[]) =>
    urls.length > 0
      ? null
      : '--advertise-client-urls is required when --listen-client-urls is set explicitly; when listening on specific address(es), this member must advertise accessible url(s) to each connected client',
  );
}

export function InitialClusterSyntax(): PropertyDecorator {
  return rule('initialCluster', (s: string) => {
    try {
      parseInitialCluster(s);
      return null;
    } catch (e) {
      return `error setting up initial cluster: ${(e as Error).message}`;
    }
  });
}

export function CompactionRetention(): PropertyDecorator {
  return rule('compactionRetention', (s: string, o: { autoCompactionMode: string }) => {
    try {
      resolveAutoCompaction(o.autoCompactionMode, s);
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  });
}

/**
 * etcdserver's VerifyBootstrap (state new) / VerifyJoinExisting (state existing):
 * this member must be in --initial-cluster, with exactly its advertised peer URLs
 * when the cluster is new, and no peer URL may be listed twice. Group "bootstrap":
 * etcd checks it only when the member has no data yet.
 */
export function MatchesBootstrap(options: ValidationOptions): PropertyDecorator {
  return rule(
    'bootstrap',
    (s: string, o: { name: string; initialAdvertisePeerUrls: ParsedUrl[]; initialClusterState: string }) => {
      let cluster;
      try {
        cluster = parseInitialCluster(s);
      } catch {
        return null; // reported by InitialClusterSyntax
      }
      return bootstrapProblem(o.name, cluster, o.initialAdvertisePeerUrls, o.initialClusterState);
    },
    options,
  );
}

export function NotEmpty(message: string): PropertyDecorator {
  return rule('notEmpty', (v: string) => (typeof v === 'string' && v !== '' ? null : message));
}

/** embed.Config.setupLogging's --log-outputs rules. */
export function LogOutputs(): PropertyDecorator {
  return rule('logOutputs', (outputs: string[], o: { logger: string }) => {
    const goList = `[${outputs.map((x) => JSON.stringify(x)).join(' ')}]`;
    if (o.logger === 'capnslog') {
      if (outputs.length !== 1)
        return `--logger=capnslog supports only 1 value in '--log-outputs', got ${goList}`;
      if (!['default', 'stderr', 'stdout'].includes(outputs[0])) {
        return `unknown log-output ${JSON.stringify(outputs[0])} (only supports "default", "stderr", "stdout")`;
      }
      return null;
    }
    if (outputs.length === 0 || outputs.includes('')) return `--log-outputs: empty output in ${goList}`;
    if (outputs.includes('systemd/journal')) {
      return `--log-outputs=systemd/journal is not supported yet: Cairn writes JSON lines to stderr, stdout or files`;
    }
    return null;
  });
}

export function AuthTokenOption(): PropertyDecorator {
  return rule('authToken', (s: string) => {
    try {
      parseAuthToken(s);
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  });
}

/** etcd refuses a bcrypt cost outside 4..31. */
export function BcryptCost(): PropertyDecorator {
  return rule('bcryptCost', (n: number) =>
    Number.isInteger(n) && n >= 4 && n <= 31 ? null : `invalid bcrypt-cost: ${n} (must be between 4 and 31)`,
  );
}

/** etcd refuses a --cipher-suites name Go does not know. */
export function CipherSuites(): PropertyDecorator {
  return rule('cipherSuites', (names: string[]) => cipherSuitesError(names));
}
