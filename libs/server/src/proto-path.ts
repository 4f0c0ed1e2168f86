import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository (or installed package) root: the nearest folder above this file with a package.json. */
export function packageRoot(from = __dirname): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${from}`);
    dir = up;
  }
  return dir;
}

export const ETCD_PROTO_DIR = join(packageRoot(), 'proto', 'etcd');
export const CAIRN_PROTO_DIR = join(packageRoot(), 'proto', 'cairn');
