// URL lists as etcd's types.NewURLs takes them: comma-separated, trimmed,
// "scheme://host:port" with no path, sorted. Error texts are etcd's, so an
// operator sees the same complaint from Cairn as from etcd.
import { isIP } from 'node:net';

export interface ParsedUrl {
  /** Normalised form, e.g. "http://127.0.0.1:2379" (what etcd's url.String() prints). */
  readonly url: string;
  readonly scheme: string;
  /** Host name or IP, IPv6 without brackets. */
  readonly host: string;
  readonly port: number;
}

const SCHEMES = new Set(['http', 'https', 'unix', 'unixs']);

/** Parses one URL; throws Error with etcd's message. */
export function parseUrl(raw: string): ParsedUrl {
  const input = raw.trim();
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):(.*)$/s.exec(input);
  const scheme = m ? m[1].toLowerCase() : '';
  if (!m || !SCHEMES.has(scheme)) {
    throw new Error(`URL scheme must be http, https, unix, or unixs: ${input}`);
  }
  // "scheme://authority[/path][?query]"; without "//" Go leaves the host empty.
  const rest = m[2];
  const hasAuthority = rest.startsWith('//');
  const end = hasAuthority ? rest.slice(2).search(/[/?#]/) : -1;
  const authority = !hasAuthority ? '' : end < 0 ? rest.slice(2) : rest.slice(2, 2 + end);
  const tail = !hasAuthority ? rest : end < 0 ? '' : rest.slice(2 + end);
  const hostPort = splitHostPort(authority);
  if (hostPort && hostPort.port !== '' && !/^\d+$/.test(hostPort.port)) {
    throw new Error(`parse ${JSON.stringify(input)}: invalid port ":${hostPort.port}" after host`);
  }
  if (!hostPort) throw new Error(`URL address does not have the form "host:port": ${input}`);
  if (tail.startsWith('/')) throw new Error(`URL must not contain a path: ${input}`);
  // etcd keeps a query or fragment and ignores it; refuse rather than guess.
  if (tail !== '') throw new Error(`URL must not contain a query or fragment: ${input}`);
  // Go accepts an empty port ("http://h:"), which then fails at bind/dial time; refuse early.
  const port = Number(hostPort.port);
  if (hostPort.port === '' || port > 65535) {
    throw new Error(`URL address does not have the form "host:port": ${input}`);
  }
  return { url: `${scheme}://${authority}`, scheme, host: hostPort.host, port };
}

// net.SplitHostPort: null where Go returns an error.
function splitHostPort(hp: string): { host: string; port: string } | null {
  if (hp.startsWith('[')) {
    const close = hp.indexOf(']');
    if (close < 0 || hp[close + 1] !== ':') return null;
    return { host: hp.slice(1, close), port: hp.slice(close + 2) };
  }
  const i = hp.lastIndexOf(':');
  if (i < 0) return null;
  const host = hp.slice(0, i);
  if (host.includes(':')) return null;
  return { host, port: hp.slice(i + 1) };
}

/** types.NewURLs over a comma-separated list: deduplicated and sorted as etcd stores them. */
export function parseUrlList(s: string): ParsedUrl[] {
  const parts = s.split(',');
  const byUrl = new Map<string, ParsedUrl>();
  for (const p of parts) {
    const u = parseUrl(p);
    byUrl.set(u.url, u);
  }
  return [...byUrl.values()].sort((a, b) => (a.url < b.url ? -1 : a.url > b.url ? 1 : 0));
}

/** embed.checkBindURLs: a listener needs an IP literal or "localhost". */
export function checkBindUrl(u: ParsedUrl): string | null {
  if (u.scheme === 'unix' || u.scheme === 'unixs') return null;
  if (u.host === 'localhost' || isIP(u.host) !== 0) return null;
  return `expected IP in URL for binding (${u.url})`;
}

/** embed.checkHostURLs: an advertised URL needs a host. */
export function checkHostUrl(u: ParsedUrl): string | null {
  return u.host === '' ? `unexpected empty host (${u.url})` : null;
}

/** name -> peer URLs, as types.NewURLsMap parses --initial-cluster. */
export type InitialCluster = Record<string, ParsedUrl[]>;

export function parseInitialCluster(s: string): InitialCluster {
  const grouped = new Map<string, string[]>();
  for (const entry of s.split(',')) {
    if (entry === '') continue; // etcd skips empty entries ("a=u,")
    const eq = entry.indexOf('=');
    const name = eq < 0 ? entry : entry.slice(0, eq);
    const value = eq < 0 ? '' : entry.slice(eq + 1);
    grouped.set(name, [...(grouped.get(name) ?? []), value]);
  }
  const names = [...grouped.keys()].sort();
  return Object.fromEntries(names.map((n) => [n, parseUrlList(grouped.get(n)!.join(','))]));
}

/** types.URLsMap.String(): "a=http://x:2380,b=http://y:2380", names sorted. */
export function formatInitialCluster(c: InitialCluster): string {
  return Object.keys(c)
    .sort()
    .flatMap((n) => c[n].map((u) => `${n}=${u.url}`))
    .join(',');
}

/**
 * etcdserver's VerifyBootstrap checks of --initial-cluster for member `name` (etcd's texts), or
 * null when they pass; cairnctl's snapshot restore makes them too.
 */
export function bootstrapProblem(
  name: string,
  cluster: InitialCluster,
  advertisedPeerUrls: ParsedUrl[],
  state: string,
): string | null {
  const mine = Object.prototype.hasOwnProperty.call(cluster, name) ? cluster[name] : undefined;
  if (!mine) return `couldn't find local name ${JSON.stringify(name)} in the initial cluster configuration`;
  if (state === 'new') {
    const advertised = advertisedPeerUrls.map((u) => u.url);
    const listed = mine.map((u) => u.url);
    const notAdvertised = listed.filter((u) => !advertised.includes(u));
    if (notAdvertised.length > 0) {
      return `--initial-cluster has ${notAdvertised.map((u) => `${name}=${u}`).join(',')} but missing from --initial-advertise-peer-urls=${advertised.join(',')}`;
    }
    const notListed = advertised.filter((u) => !listed.includes(u));
    if (notListed.length > 0) {
      return `--initial-advertise-peer-urls has ${notListed.join(',')} but missing from --initial-cluster=${formatInitialCluster({ [name]: mine })}`;
    }
  }
  const all = Object.values(cluster).flatMap((us) => us.map((u) => u.url));
  if (new Set(all).size !== all.length) {
    return `initial cluster ${formatInitialCluster(cluster)} has duplicate url`;
  }
  return null;
}
