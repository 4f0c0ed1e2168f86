// Turning one textual flag value (from argv or ETCD_*) into a typed value, the way
// the corresponding Go flag.Value's Set() does, including its error text.
import { FlagSpec, FlagValue } from './flags';
import {
  GoParseError,
  parseGoBool,
  parseGoDuration,
  parseGoInt,
  parseGoUint,
  toSafeNumber,
} from './go-values';
import { parseUrlList } from './urls';

/**
 * Parses `raw` for `spec`. `current` is the value before this Set(): etcd's URL
 * flags treat their allowed exception ("" for most, "*" for --cors) as "keep".
 * Throws Error whose message is Go's reason ("parse error", "invalid value", ...).
 */
export function parseFlagValue(spec: FlagSpec, raw: string, current: FlagValue): FlagValue {
  switch (spec.kind) {
    case 'string':
      return raw;
    case 'bool':
      return parseGoBool(raw);
    case 'uint':
    case 'uint64':
      return toSafeNumber(parseGoUint(raw, 64));
    case 'uint32':
      // pkg/flags.uint32Value reports strconv's own error text.
      try {
        return Number(parseGoUint(raw, 32));
      } catch (e) {
        const why = (e as GoParseError).kind === 'range' ? 'value out of range' : 'invalid syntax';
        throw new Error(`strconv.ParseUint: parsing ${JSON.stringify(raw)}: ${why}`, { cause: e });
      }
    case 'int':
    case 'int64':
      return toSafeNumber(parseGoInt(raw));
    case 'duration':
      try {
        return parseGoDuration(raw);
      } catch {
        throw new GoParseError('syntax'); // flag.durationValue hides time's message
      }
    case 'urls':
      if (raw === '' || (spec.name === 'cors' && raw === '*')) return raw === '*' ? ['*'] : current;
      return parseUrlList(raw).map((u) => u.url);
    case 'uniqueStrings':
      return [...new Set(raw.split(','))].sort();
    case 'strings':
      return raw === '' ? [] : raw.split(',');
    case 'select':
      if (!spec.choices!.includes(raw)) throw new Error('invalid value');
      return raw;
  }
}
