import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { Member, pb } from '../../server/src';
import { MEMBER } from './tokens';

/** etcdserverpb.Cluster: the member list and membership changes through Raft conf changes. */
@Controller()
export class ClusterController {
  constructor(@Inject(MEMBER) private readonly member: Member) {}

  @GrpcMethod('Cluster', 'MemberList')
  memberList(): pb.MemberListResponse {
    return this.member.memberList();
  }

  @GrpcMethod('Cluster', 'MemberAdd')
  memberAdd(req: pb.MemberAddRequest): Promise<pb.MemberAddResponse> {
    return this.member.memberAdd(req);
  }

  @GrpcMethod('Cluster', 'MemberRemove')
  memberRemove(req: pb.MemberRemoveRequest): Promise<pb.MembersResponse> {
    return this.member.memberRemove(req);
  }

  @GrpcMethod('Cluster', 'MemberUpdate')
  memberUpdate(req: pb.MemberUpdateRequest): Promise<pb.MembersResponse> {
    return this.member.memberUpdate(req);
  }

  @GrpcMethod('Cluster', 'MemberPromote')
  memberPromote(req: pb.MemberPromoteRequest): Promise<pb.MembersResponse> {
    return this.member.memberPromote(req);
  }
}
