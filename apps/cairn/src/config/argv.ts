// A hand-written parser for Go's `flag` package syntax, which etcd uses.
// Why not yargs: yargs 18 is ESM-only (this repo compiles to CommonJS), and it
// cannot reproduce Go's rules anyway: `-flag` and `--flag` are the same, a
// boolean never consumes the next word (`--force-new-cluster false` leaves
// "false" as a stray argument, which etcd rejects), a non-boolean always does
// (`--name -x` sets name to "-x"), parsing stops at the first non-flag, and the
// messages ("flag provided but not defined: -foo") are Go's. ~80 lines do it.
import { ConfigError } from './config-error';
import { FLAGS_BY_NAME, FlagValue, IGNORED_FLAGS } from './flags';
import { parseFlagValue } from './flag-values';

export interface ParsedArgv {
  /** Flags given on the command line, by flag name, parsed; the last occurrence wins. */
  readonly values: Map<string, FlagValue>;
  readonly help: boolean;
  readonly warnings: string[];
}

export function parseArgv(argv: readonly string[]): ParsedArgv {
  const values = new Map<string, FlagValue>();
  const warnings: string[] = [];
  const args = [...argv];
  while (args.length > 0) {
    const s = args[0];
    if (s.length < 2 || s[0] !== '-') break; // first non-flag ends the flags
    let dashes = 1;
    if (s[1] === '-') {
      dashes = 2;
      if (s.length === 2) {
        args.shift(); // "--" ends the flags
        break;
      }
    }
    let name = s.slice(dashes);
    if (name.length === 0 || name[0] === '-' || name[0] === '=') {
      throw new ConfigError(`bad flag syntax: ${s}`);
    }
    args.shift();
    let value: string | undefined;
    const eq = name.indexOf('=', 1);
    if (eq > 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    if (IGNORED_FLAGS.includes(name)) {
      warnings.push(`flag "-${name}" is no longer supported - ignoring.`);
      continue;
    }
    const spec = FLAGS_BY_NAME.get(name);
    if (!spec) {
      if (name === 'help' || name === 'h') return { values, help: true, warnings };
      throw new ConfigError(`flag provided but not defined: -${name}`, name);
    }
    const current = values.get(name) ?? spec.default;
    if (spec.kind === 'bool') {
      try {
        values.set(name, parseFlagValue(spec, value ?? 'true', current));
      } catch (e) {
        throw new ConfigError(`invalid boolean value "${value}" for -${name}: ${(e as Error).message}`, name);
      }
      continue;
    }
    if (value === undefined) {
      if (args.length === 0) throw new ConfigError(`flag needs an argument: -${name}`, name);
      value = args.shift()!;
    }
    try {
      values.set(name, parseFlagValue(spec, value, current));
    } catch (e) {
      throw new ConfigError(
        `invalid value ${JSON.stringify(value)} for flag -${name}: ${(e as Error).message}`,
        name,
      );
    }
  }
  if (args.length > 0) {
    // etcdmain: positional arguments are not accepted
    throw new ConfigError(`'${args[0]}' is not a valid flag`);
  }
  return { values, help: false, warnings };
}
