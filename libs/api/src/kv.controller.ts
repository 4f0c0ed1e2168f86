import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { Member, pb } from '../../server/src';
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
  range(req: pb.RangeRequest): Promise<pb.RangeResponse> {
    checkRange(req);
    return this.member.range(req);
  }

  @GrpcMethod('KV', 'Put')
  put(req: pb.PutRequest): Promise<pb.PutResponse> {
    checkPut(req);
    return this.member.put(req);
  }

  @GrpcMethod('KV', 'DeleteRange')
  deleteRange(req: pb.DeleteRangeRequest): Promise<pb.DeleteRangeResponse> {
    checkDeleteRange(req);
    return this.member.deleteRange(req);
  }

  @GrpcMethod('KV', 'Txn')
  txn(req: pb.TxnRequest): Promise<pb.TxnResponse> {
    checkTxn(req, this.limits.maxTxnOps);
    return this.member.txn(req);
  }

  @GrpcMethod('KV', 'Compact')
  compact(req: pb.CompactionRequest): Promise<pb.CompactionResponse> {
    return this.member.compact(req);
  }
}
