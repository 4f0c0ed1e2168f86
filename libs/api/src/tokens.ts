/** Dependency-injection tokens for what the API module is given by the daemon. */
export const MEMBER = Symbol('cairn.member');
export const LIMITS = Symbol('cairn.limits');
export const LOGGER = Symbol('cairn.logger');

export interface Limits {
  maxTxnOps: number;
  maxRequestBytes: number;
}

/** gRPC adds framing and metadata on top of the request itself; etcd allows this much slack. */
export const GRPC_OVERHEAD_BYTES = 512 * 1024;
