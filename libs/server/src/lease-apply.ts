import { LeaseError, Lessor } from '../../lease/src';
import { MvccStore } from '../../storage/src';
import type { ApplyResult } from './applier';
import { Errors } from './etcd-errors';
import * as pb from './etcd-types';

/** Applies a LeaseGrant from the log; its id was chosen by the proposer. */
export function applyLeaseGrant(lessor: Lessor, store: MvccStore, req: pb.LeaseGrantRequest): ApplyResult {
  try {
    const id = BigInt(req.ID ?? 0);
    const ttl = lessor.grant(id, Number(req.TTL ?? 0));
    const response: pb.LeaseGrantResponse = {
      header: { revision: store.revision } as pb.ResponseHeader,
      ID: id.toString(),
      TTL: String(ttl),
      error: '',
    };
    return { response };
  } catch (err) {
    return { error: fromLeaseError(err) };
  }
}

/**
 * Applies a LeaseRevoke from the log: the lease goes, and its keys are deleted in one
 * revision (one txn of deletes, in key order, as etcd does), so watchers see one event batch.
 */
export function applyLeaseRevoke(lessor: Lessor, store: MvccStore, req: pb.LeaseRevokeRequest): ApplyResult {
  try {
    const keys = lessor.revoke(BigInt(req.ID ?? 0));
    if (keys.length > 0) {
      store.txn({ compare: [], success: keys.map((key) => ({ deleteRange: { key } })), failure: [] });
    }
    const response: pb.LeaseRevokeResponse = {
      header: { revision: store.revision } as pb.ResponseHeader,
    };
    return { response };
  } catch (err) {
    return { error: fromLeaseError(err) };
  }
}

/** Maps a lessor refusal to the error etcd gives. */
export function fromLeaseError(err: unknown): unknown {
  if (!(err instanceof LeaseError)) return err;
  switch (err.code) {
    case 'not-found':
      return Errors.leaseNotFound();
    case 'exists':
      return Errors.leaseExists();
    case 'ttl-too-large':
      return Errors.leaseTtlTooLarge();
    case 'not-primary':
      return Errors.notLeader();
  }
}
