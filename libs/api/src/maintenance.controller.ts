import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { Member, pb } from '../../server/src';
import { MEMBER } from './tokens';

/** etcdserverpb.Maintenance: Status for now; the replicated-member work adds the rest. */
@Controller()
export class MaintenanceController {
  constructor(@Inject(MEMBER) private readonly member: Member) {}

  @GrpcMethod('Maintenance', 'Status')
  status(): pb.StatusResponse {
    return this.member.status();
  }
}
