// The etcdserverpb Lease messages as the gRPC layer decodes them (int64s as decimal strings).
import type { Int64, Int64Bits, ResponseHeader } from './etcd-types';

export interface LeaseGrantRequest {
  TTL?: Int64;
  ID?: Int64;
}

export interface LeaseGrantResponse {
  header: ResponseHeader;
  ID: string;
  TTL: string;
  error: string;
}

export interface LeaseRevokeRequest {
  ID?: Int64;
}

export interface LeaseRevokeResponse {
  header: ResponseHeader;
}

export interface LeaseKeepAliveRequest {
  ID?: Int64;
}

/** Answered once per keep-alive: the id as halves and the TTL as a number, encoded as they are. */
export interface LeaseKeepAliveResponse {
  header: ResponseHeader;
  ID: Int64Bits;
  TTL: number;
}

export interface LeaseTimeToLiveRequest {
  ID?: Int64;
  keys?: boolean;
}

export interface LeaseTimeToLiveResponse {
  header: ResponseHeader;
  ID: string;
  TTL: string;
  grantedTTL: string;
  keys: Buffer[];
}

export interface LeaseLeasesResponse {
  header: ResponseHeader;
  leases: { ID: string }[];
}
