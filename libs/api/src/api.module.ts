import { DynamicModule, Module } from '@nestjs/common';
import { Logger, Member } from '../../server/src';
import { AuthController } from './auth.controller';
import { ClusterController } from './cluster.controller';
import { ElectionController } from './election.controller';
import { KvController } from './kv.controller';
import { LeaseController } from './lease.controller';
import { LockController } from './lock.controller';
import { MaintenanceController } from './maintenance.controller';
import { LIMITS, LOGGER, Limits, MEMBER } from './tokens';
import { WatchController } from './watch.controller';

/** The controllers of the etcd v3 gRPC services. */
export const API_CONTROLLERS = [
  KvController,
  MaintenanceController,
  ClusterController,
  LeaseController,
  WatchController,
  AuthController,
  LockController,
  ElectionController,
];

/** The etcd v3 gRPC services (with Lock and Election) of one member, wired to an already started Member. */
@Module({})
export class ApiModule {
  static forMember(member: Member, limits: Limits, logger: Logger): DynamicModule {
    return {
      module: ApiModule,
      controllers: API_CONTROLLERS,
      providers: [
        { provide: MEMBER, useValue: member },
        { provide: LIMITS, useValue: limits },
        { provide: LOGGER, useValue: logger },
      ],
    };
  }
}
