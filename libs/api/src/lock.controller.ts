import { Controller, Inject } from '@nestjs/common';
import { GrpcHandler } from './grpc-handler';
import {
  LockRequest,
  LockResponse,
  LockService,
  Member,
  RequestCall,
  RequestMetadata,
  pb,
} from '../../server/src';
import { CancellableCall, callSignal } from './call-signal';
import { viaEmbeddedClient } from './coordination-errors';
import { MEMBER } from './tokens';

/** v3lockpb.Lock. */
@Controller()
export class LockController {
  private readonly locks: LockService;

  constructor(@Inject(MEMBER) private readonly member: Member) {
    this.locks = new LockService(member);
  }

  @GrpcHandler('Lock', 'Lock')
  lock(
    req: LockRequest,
    meta?: RequestMetadata,
    call?: RequestCall & CancellableCall,
  ): Promise<LockResponse> {
    return viaEmbeddedClient(() =>
      this.locks.lock(req, callSignal(call), this.member.auth.infoFrom(meta, call)),
    );
  }

  @GrpcHandler('Lock', 'Unlock')
  unlock(
    req: { key?: Buffer },
    meta?: RequestMetadata,
    call?: RequestCall,
  ): Promise<{ header: pb.ResponseHeader }> {
    return viaEmbeddedClient(() => this.locks.unlock(req, this.member.auth.infoFrom(meta, call)));
  }
}
