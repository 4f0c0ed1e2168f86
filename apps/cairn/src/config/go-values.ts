// Parsers that reproduce Go's strconv / time / flag value syntax, because etcd's
// flags are Go `flag` values: `--snapshot-count 0x10` and `--grpc-keepalive-time 1h30m`
// are valid in etcd, so they must be valid here, and nothing etcd rejects may slip through.

/** Go's strconv errors, which `flag` reports as "parse error" / "value out of range". */
export class GoParseError extends Error {
  constructor(readonly kind: 'syntax' | 'range') {
    super(kind === 'syntax' ? 'parse error' : 'value out of range');
  }
}

const TRUE_WORDS = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE_WORDS = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** strconv.ParseBool. */
export function parseGoBool(s: string): boolean {
  if (TRUE_WORDS.has(s)) return true;
  if (FALSE_WORDS.has(s)) return false;
  throw new GoParseError('syntax');
}

// strconv.underscoreOK: underscores only between digits (or after a base prefix).
function underscoreOK(s: string): boolean {
  let saw = '^';
  let i = 0;
  if (s.startsWith('-') || s.startsWith('+')) s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === '0' && 'box'.includes(s[1].toLowerCase())) {
    i = 2;
    saw = '0';
    hex = s[1].toLowerCase() === 'x';
  }
  for (; i < s.length; i++) {
    const c = s[i];
    if ((c >= '0' && c <= '9') || (hex && /[a-fA-F]/.test(c))) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

/** strconv.ParseUint(s, 0, bits): base prefixes 0x/0o/0b/0 and digit separators. */
export function parseGoUint(s: string, bits: 32 | 64): bigint {
  if (s === '') throw new GoParseError('syntax');
  const s0 = s;
  let base = 10n;
  if (s[0] === '0') {
    const p = s.length >= 3 ? s[1].toLowerCase() : '';
    if (p === 'b' || p === 'o' || p === 'x') {
      base = p === 'b' ? 2n : p === 'o' ? 8n : 16n;
      s = s.slice(2);
    } else {
      base = 8n;
      s = s.slice(1);
    }
  }
  const max = (1n << BigInt(bits)) - 1n;
  let n = 0n;
  let underscores = false;
  for (const c of s) {
    if (c === '_') {
      underscores = true;
      continue;
    }
    const d = parseInt(c, 36);
    if (Number.isNaN(d) || BigInt(d) >= base) throw new GoParseError('syntax');
    n = n * base + BigInt(d);
    if (n > max) throw new GoParseError('range');
  }
  if (underscores && !underscoreOK(s0)) throw new GoParseError('syntax');
  return n;
}

/** strconv.ParseInt(s, 0, 64). */
export function parseGoInt(s: string): bigint {
  if (s === '') throw new GoParseError('syntax');
  const neg = s[0] === '-';
  const body = s[0] === '-' || s[0] === '+' ? s.slice(1) : s;
  if (body === '' || body[0] === '-' || body[0] === '+') throw new GoParseError('syntax');
  const un = parseGoUint(body, 64);
  const limit = 1n << 63n;
  if (neg ? un > limit : un >= limit) throw new GoParseError('range');
  return neg ? -un : un;
}

/** A bigint as a JS number; beyond 2^53 precision would be lost, so refuse it. */
export function toSafeNumber(n: bigint): number {
  if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new GoParseError('range');
  }
  return Number(n);
}

const UNIT_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3, // U+00B5
  μs: 1e3, // U+03BC
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Go's %q for the ASCII strings we quote in messages. */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** time.ParseDuration, returning milliseconds; error texts are Go's. */
export function parseGoDuration(orig: string): number {
  const invalid = () => new Error(`time: invalid duration ${goQuote(orig)}`);
  let s = orig;
  let neg = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw invalid();
  let totalNs = 0;
  while (s !== '') {
    if (!(s[0] === '.' || (s[0] >= '0' && s[0] <= '9'))) throw invalid();
    const m = /^(\d*)(?:\.(\d*))?/.exec(s)!;
    const intPart = m[1];
    const fracPart = m[2];
    const pre = intPart !== '';
    const post = fracPart !== undefined && fracPart !== '';
    if (!pre && !post) throw invalid();
    s = s.slice(m[0].length);
    let i = 0;
    while (i < s.length && s[i] !== '.' && !(s[i] >= '0' && s[i] <= '9')) i++;
    if (i === 0) throw new Error(`time: missing unit in duration ${goQuote(orig)}`);
    const unit = s.slice(0, i);
    s = s.slice(i);
    const ns = UNIT_NS[unit];
    if (ns === undefined) throw new Error(`time: unknown unit ${goQuote(unit)} in duration ${goQuote(orig)}`);
    totalNs += Number(`${intPart || '0'}.${fracPart || '0'}`) * ns;
  }
  // Go stores int64 nanoseconds: anything beyond ~292 years is invalid.
  if (totalNs > 2 ** 63 - 1) throw invalid();
  return (neg ? -totalNs : totalNs) / 1e6;
}

/** A millisecond duration in Go's time.Duration.String() form ("2h0m0s", "100ms"), for help text. */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  ms = Math.abs(ms);
  if (ms < 1) return ms * 1000 >= 1 ? `${sign}${ms * 1000}µs` : `${sign}${ms * 1e6}ns`;
  if (ms < 1000) return `${sign}${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  let out = `${(ms % 60_000) / 1000}s`;
  if (h || m) out = `${m}m${out}`;
  if (h) out = `${h}h${out}`;
  return sign + out;
}
