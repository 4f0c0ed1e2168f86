import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { Errors, Member, pb } from '../../server/src';
import { MEMBER } from './tokens';

/**
 * etcdserverpb.Cluster. A member is a Raft cluster of one until the replicated-member work:
 * MemberList reports it; membership changes are refused with UNIMPLEMENTED rather than
 * pretending to succeed.
 */
@Controller()
export class ClusterController {
  constructor(@Inject(MEMBER) private readonly member: Member) {}

  @GrpcMethod('Cluster', 'MemberList')
  memberList(): pb.MemberListResponse {
    return this.member.memberList();
  }

  @GrpcMethod('Cluster', 'MemberAdd')
  memberAdd(): never {
    throw Errors.membershipUnsupported('MemberAdd');
  }

  @GrpcMethod('Cluster', 'MemberRemove')
  memberRemove(): never {
    throw Errors.membershipUnsupported('MemberRemove');
  }

  @GrpcMethod('Cluster', 'MemberUpdate')
  memberUpdate(): never {
    throw Errors.membershipUnsupported('MemberUpdate');
  }

  @GrpcMethod('Cluster', 'MemberPromote')
  memberPromote(): never {
    throw Errors.membershipUnsupported('MemberPromote');
  }
}
