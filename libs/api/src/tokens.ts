/** Dependency-injection tokens for what the API module is given by the daemon. */
export const MEMBER = Symbol('cairn.member');
export const LIMITS = Symbol('cairn.limits');
export const LOGGER = Symbol('cairn.logger');

export interface Limits {
  maxTxnOps: number;
  maxRequestBytes: number;
}
