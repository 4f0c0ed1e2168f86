// --version output, shaped like etcd's ("etcd Version: 3.4.23" ...), naming Cairn.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The etcd release whose API and flags Cairn follows. */
export const ETCD_COMPATIBLE_VERSION = '3.4';

// Walk up from this file to the repository's package.json (works from src and from dist).
function cairnVersion(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'cairn' && pkg.version) return pkg.version;
    }
  }
  return 'unknown';
}

export function formatVersion(): string {
  return [
    `cairn Version: ${cairnVersion()}`,
    `etcd API Version: ${ETCD_COMPATIBLE_VERSION}`,
    `Node Version: ${process.version}`,
    `Node OS/Arch: ${process.platform}/${process.arch}`,
    '',
  ].join('\n');
}
