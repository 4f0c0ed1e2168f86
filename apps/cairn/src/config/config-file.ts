// The YAML config file (--config-file / ETCD_CONFIG_FILE) with etcd's key names.
// etcd decodes it YAML 1.1 -> JSON -> Go struct, so types are strict: a quoted
// number for snapshot-count, or an unquoted number for auto-compaction-retention,
// is an error; durations are integers of nanoseconds; URL lists are one
// comma-separated string; log-outputs and cipher-suites are YAML lists. Unknown
// keys are ignored by etcd; Cairn ignores them too but reports a warning.
import { readFileSync } from 'node:fs';
import { load, YAML11_SCHEMA } from 'js-yaml';
import { ConfigError } from './config-error';
import { FLAGS, FlagSpec, FlagValue } from './flags';
import { parseUrlList } from './urls';

export interface FileResult {
  readonly values: Map<string, FlagValue>;
  readonly warnings: string[];
}

const LIMITS: Partial<Record<FlagSpec['kind'], [number, number, string]>> = {
  uint: [0, Number.MAX_SAFE_INTEGER, 'uint'],
  uint64: [0, Number.MAX_SAFE_INTEGER, 'uint64'],
  uint32: [0, 4294967295, 'uint32'],
  int: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 'int'],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 'int64'],
  duration: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 'time.Duration (integer nanoseconds)'],
};

export function readConfigFile(path: string): FileResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file or directory' : err.message;
    throw new ConfigError(`open ${path}: ${why}`, 'config-file');
  }
  let doc: unknown;
  try {
    doc = text.trim() === '' ? {} : load(text, { schema: YAML11_SCHEMA });
  } catch (e) {
    if (/expected a document/.test((e as Error).message))
      doc = {}; // comments only
    else
      throw new ConfigError(
        `error converting YAML to JSON in ${path}: ${(e as Error).message}`,
        'config-file',
      );
  }
  if (doc === null || doc === undefined) doc = {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError(`config file ${path} must be a YAML mapping of etcd option names`, 'config-file');
  }
  return fromDocument(doc as Record<string, unknown>, path);
}

/** Exposed for tests: the typed values a parsed YAML document sets. */
export function fromDocument(doc: Record<string, unknown>, path: string): FileResult {
  const values = new Map<string, FlagValue>();
  const known = new Set<string>();
  for (const spec of FLAGS) {
    const fileKey = spec.fileKey === undefined ? spec.name : spec.fileKey;
    if (fileKey === null) continue;
    const [top, sub] = fileKey.split('.');
    known.add(top);
    let raw: unknown = doc[top];
    if (sub !== undefined) {
      if (raw === null || raw === undefined) continue;
      if (typeof raw !== 'object' || Array.isArray(raw)) throw typeError(path, top, raw, 'object', spec.name);
      raw = (raw as Record<string, unknown>)[sub];
    }
    if (raw === null || raw === undefined) continue; // JSON null leaves the default
    values.set(spec.name, convert(spec, fileKey, raw, path));
  }
  const warnings = Object.keys(doc)
    .filter((k) => !known.has(k))
    .map((k) => `unknown key ${JSON.stringify(k)} in config file ${path} ignored`);
  return { values, warnings };
}

function convert(spec: FlagSpec, key: string, raw: unknown, path: string): FlagValue {
  switch (spec.kind) {
    case 'string':
    case 'select':
      if (typeof raw !== 'string') throw typeError(path, key, raw, 'string', spec.name);
      return raw;
    case 'bool':
      if (typeof raw !== 'boolean') throw typeError(path, key, raw, 'bool', spec.name);
      return raw;
    case 'urls':
      if (typeof raw !== 'string') throw typeError(path, key, raw, 'string', spec.name);
      if (raw === '') return spec.default;
      if (spec.name === 'cors' && raw === '*') return ['*'];
      try {
        return parseUrlList(raw).map((u) => u.url);
      } catch (e) {
        // etcd: "unexpected error setting up listen-client-urls: ..."
        throw new ConfigError(`unexpected error setting up ${key}: ${(e as Error).message}`, spec.name);
      }
    case 'uniqueStrings':
    case 'strings': {
      // cors and host-whitelist are comma-separated strings in the file; the rest are lists.
      if (spec.name === 'host-whitelist') {
        if (typeof raw !== 'string') throw typeError(path, key, raw, 'string', spec.name);
        return raw === '' ? spec.default : [...new Set(raw.split(','))].sort();
      }
      if (!Array.isArray(raw) || raw.some((x) => typeof x !== 'string'))
        throw typeError(path, key, raw, '[]string', spec.name);
      return spec.kind === 'uniqueStrings' ? [...new Set(raw as string[])].sort() : (raw as string[]);
    }
    default: {
      const [min, max, goType] = LIMITS[spec.kind]!;
      if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < min || raw > max) {
        throw typeError(path, key, raw, goType, spec.name);
      }
      return spec.kind === 'duration' ? raw / 1e6 : raw;
    }
  }
}

function typeError(path: string, key: string, raw: unknown, goType: string, flag: string): ConfigError {
  const jsonType = Array.isArray(raw) ? 'array' : raw instanceof Date ? 'timestamp' : typeof raw;
  const shown = typeof raw === 'number' || typeof raw === 'string' ? ` ${JSON.stringify(raw)}` : '';
  let hint = '';
  if (key === 'auto-compaction-retention' && typeof raw === 'number') hint = ` (quote it: "${raw}")`;
  if (goType.startsWith('time.Duration') && typeof raw === 'string')
    hint = ' (etcd config files take durations as integer nanoseconds)';
  return new ConfigError(
    `config file ${path}: cannot use ${jsonType}${shown} as ${key} of type ${goType}${hint}`,
    flag,
  );
}
