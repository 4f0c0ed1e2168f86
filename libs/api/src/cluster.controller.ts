import { Controller, Inject } from '@nestjs/common';
import { GrpcHandler } from './grpc-handler';
import { Member, RequestCall, RequestMetadata, pb } from '../../server/src';
import { MEMBER } from './tokens';

/** etcdserverpb.Cluster: the member list and membership changes through Raft conf changes. */
@Controller()
export class ClusterController {
  constructor(@Inject(MEMBER) private readonly member: Member) {}

  @GrpcHandler('Cluster', 'MemberList')
  memberList(): pb.MemberListResponse {
    return this.member.memberList();
  }

  @GrpcHandler('Cluster', 'MemberAdd')
  memberAdd(
    req: pb.MemberAddRequest,
    meta?: RequestMetadata,
    call?: RequestCall,
  ): Promise<pb.MemberAddResponse> {
    this.checkAdmin(meta, call);
    return this.member.memberAdd(req);
  }

  @GrpcHandler('Cluster', 'MemberRemove')
  memberRemove(
    req: pb.MemberRemoveRequest,
    meta?: RequestMetadata,
    call?: RequestCall,
  ): Promise<pb.MembersResponse> {
    this.checkAdmin(meta, call);
    return this.member.memberRemove(req);
  }

  @GrpcHandler('Cluster', 'MemberUpdate')
  memberUpdate(
    req: pb.MemberUpdateRequest,
    meta?: RequestMetadata,
    call?: RequestCall,
  ): Promise<pb.MembersResponse> {
    this.checkAdmin(meta, call);
    return this.member.memberUpdate(req);
  }

  @GrpcHandler('Cluster', 'MemberPromote')
  memberPromote(
    req: pb.MemberPromoteRequest,
    meta?: RequestMetadata,
    call?: RequestCall,
  ): Promise<pb.MembersResponse> {
    this.checkAdmin(meta, call);
    return this.member.memberPromote(req);
  }

  /** Membership changes are root's alone once auth is on, as etcd checks them. */
  private checkAdmin(meta?: RequestMetadata, call?: RequestCall): void {
    const info = this.member.auth.infoFrom(meta, call); // refuses a bad token even with auth off
    if (this.member.auth.store.enabled) this.member.auth.checkAdmin(info);
  }
}
