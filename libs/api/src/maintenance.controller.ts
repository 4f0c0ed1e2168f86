import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { Member, pb } from '../../server/src';
import { MEMBER } from './tokens';

/** etcdserverpb.Maintenance: Status, Alarm, Hash, HashKV and Defragment; Snapshot and MoveLeader to come. */
@Controller()
export class MaintenanceController {
  constructor(@Inject(MEMBER) private readonly member: Member) {}

  @GrpcMethod('Maintenance', 'Status')
  status(): pb.StatusResponse {
    return this.member.status();
  }

  @GrpcMethod('Maintenance', 'Alarm')
  alarm(req: pb.AlarmRequest): Promise<pb.AlarmResponse> {
    return this.member.alarm(req);
  }

  @GrpcMethod('Maintenance', 'Hash')
  hash(): Promise<pb.HashResponse> {
    return this.member.hash();
  }

  @GrpcMethod('Maintenance', 'HashKV')
  hashKV(req: pb.HashKVRequest): Promise<pb.HashKVResponse> {
    return this.member.hashKV(req);
  }

  @GrpcMethod('Maintenance', 'Defragment')
  defragment(): Promise<pb.DefragmentResponse> {
    return this.member.defragment();
  }
}
