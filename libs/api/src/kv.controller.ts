import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
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

  @GrpcMethod('KV', 'Range')
  range(req: pb.RangeRequest, meta?: RequestMetadata, call?: RequestCall): Promise<pb.RangeResponse> {
    checkRange(req);
    return this.member.range(req, () => this.member.auth.infoFrom(meta, call));
  }

  @GrpcMethod('KV', 'Put')
  put(req: pb.PutRequest, meta?: RequestMetadata, call?: RequestCall): Promise<pb.PutResponse> {
    checkPut(req);
    return this.member.put(req, () => this.member.auth.infoFrom(meta, call));
  }

  @GrpcMethod('KV', 'DeleteRange')
  deleteRange(
    req: pb.DeleteRangeRequest,
    meta?: RequestMetadata,
    call?: RequestCall,
  ): Promise<pb.DeleteRangeResponse> {
    checkDeleteRange(req);
    return this.member.deleteRange(req, () => this.member.auth.infoFrom(meta, call));
  }

  @GrpcMethod('KV', 'Txn')
  txn(req: pb.TxnRequest, meta?: RequestMetadata, call?: RequestCall): Promise<pb.TxnResponse> {
    checkTxn(req, this.limits.maxTxnOps);
    return this.member.txn(req, () => this.member.auth.infoFrom(meta, call));
  }

  @GrpcMethod('KV', 'Compact')
  compact(
    req: pb.CompactionRequest,
    meta?: RequestMetadata,
    call?: RequestCall,
  ): Promise<pb.CompactionResponse> {
    this.member.auth.checkToken(meta, call);
    return this.member.compact(req);
  }
}
