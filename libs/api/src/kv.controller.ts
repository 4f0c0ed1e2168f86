import { Controller, Inject } from '@nestjs/common';
import { GrpcHandler } from './grpc-handler';
import { Member, RequestCall, RequestMetadata, pb } from '../../server/src';
import { MEMBER, LIMITS, Limits } from './tokens';
import { checkDeleteRange, checkPut, checkRange, checkTxn } from './validation';

/** etcdserverpb.KV: validate, then hand the request to the member. */
@Controller()
export class KvController {
  constructor(
    @Inject(MEMBER) private readonly member: Member,
    @Inject(LIMITS) private readonly limits: Limits,
  ) {}

  @GrpcHandler('KV', 'Range')
  range(req: pb.RangeRequest, meta?: RequestMetadata, call?: RequestCall): Promise<pb.RangeResponse> {
    checkRange(req);
    return this.member.range(req, () => this.member.auth.infoFrom(meta, call));
  }

  @GrpcHandler('KV', 'Put')
  put(req: pb.PutRequest, meta?: RequestMetadata, call?: RequestCall): Promise<pb.PutResponse> {
    checkPut(req);
    return this.member.put(req, () => this.member.auth.infoFrom(meta, call));
  }

  @GrpcHandler('KV', 'DeleteRange')
  deleteRange(
    req: pb.DeleteRangeRequest,
    meta?: RequestMetadata,
    call?: RequestCall,
  ): Promise<pb.DeleteRangeResponse> {
    checkDeleteRange(req);
    return this.member.deleteRange(req, () => this.member.auth.infoFrom(meta, call));
  }

  @GrpcHandler('KV', 'Txn')
  txn(req: pb.TxnRequest, meta?: RequestMetadata, call?: RequestCall): Promise<pb.TxnResponse> {
    checkTxn(req, this.limits.maxTxnOps);
    return this.member.txn(req, () => this.member.auth.infoFrom(meta, call));
  }

  @GrpcHandler('KV', 'Compact')
  compact(
    req: pb.CompactionRequest,
    meta?: RequestMetadata,
    call?: RequestCall,
  ): Promise<pb.CompactionResponse> {
    this.member.auth.checkToken(meta, call);
    return this.member.compact(req);
  }
}
