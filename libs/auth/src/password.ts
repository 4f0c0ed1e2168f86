import * as bcrypt from 'bcryptjs';

/** etcd's default bcrypt cost (--bcrypt-cost); etcd accepts 4 to 31. */
export const DEFAULT_BCRYPT_COST = 10;
export const MIN_BCRYPT_COST = 4;
export const MAX_BCRYPT_COST = 31;

/**
 * bcrypt in its asynchronous form: the work is split into slices that yield to the event loop,
 * so a login or user add does not stall the requests being served meanwhile.
 */
export function hashPassword(password: string, cost: number = DEFAULT_BCRYPT_COST): Promise<string> {
  return bcrypt.hash(password, cost);
}

export function checkPassword(password: string, hash: string): Promise<boolean> {
  if (!hash) return Promise.resolve(false);
  return bcrypt.compare(password, hash);
}
