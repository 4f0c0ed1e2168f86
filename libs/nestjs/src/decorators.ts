// Method decorators; CairnExplorer wires the decorated methods up on application bootstrap.
import { SetMetadata } from '@nestjs/common';
import { ClassConstructor } from 'class-transformer';

export const WITH_LOCK = 'cairn:with-lock';
export const LEADER_ONLY = 'cairn:leader-only';
export const ON_CONFIG_CHANGE = 'cairn:on-config-change';

export interface OnConfigChangeMeta {
  key: string;
  schema: ClassConstructor<object>;
  prefix?: boolean;
}

/** Every call runs holding the distributed lock `name` (cluster-wide mutual exclusion). */
export const WithLock = (name: string) => SetMetadata(WITH_LOCK, name);

/** Calls run only while this instance leads election `name` (it campaigns on bootstrap); otherwise they return undefined. */
export const LeaderOnly = (election: string) => SetMetadata(LEADER_ONLY, election);

/**
 * Called with each valid configuration value of `key` (or of every key under it, with `prefix`):
 * the current one on bootstrap, then every change (`undefined` when deleted). Invalid values are
 * logged and not delivered.
 */
export const OnConfigChange = (
  key: string,
  schema: ClassConstructor<object>,
  options: { prefix?: boolean } = {},
) => SetMetadata(ON_CONFIG_CHANGE, { key, schema, prefix: options.prefix } satisfies OnConfigChangeMeta);
