import { Controller, Inject } from '@nestjs/common';
import { GrpcStreamCall } from '@nestjs/microservices';
import { GrpcHandler } from './grpc-handler';
import { Member, RequestCall, RequestMetadata, pb } from '../../server/src';
import { MEMBER } from './tokens';

/** The server side of a bidirectional call, as grpc-js hands it over. */
interface DuplexCall<Req, Res> {
  on(event: 'data', listener: (req: Req) => void): unknown;
  on(event: 'end' | 'cancelled' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (err: unknown) => void): unknown;
  write(res: Res): boolean;
  end(): void;
  emit(event: 'error', err: unknown): boolean;
}

/** etcdserverpb.Lease. */
@Controller()
export class LeaseController {
  constructor(@Inject(MEMBER) private readonly member: Member) {}

  @GrpcHandler('Lease', 'LeaseGrant')
  grant(
    req: pb.LeaseGrantRequest,
    meta?: RequestMetadata,
    call?: RequestCall,
  ): Promise<pb.LeaseGrantResponse> {
    this.member.auth.checkToken(meta, call);
    return this.member.leases.grant(req);
  }

  @GrpcHandler('Lease', 'LeaseRevoke')
  revoke(
    req: pb.LeaseRevokeRequest,
    meta?: RequestMetadata,
    call?: RequestCall,
  ): Promise<pb.LeaseRevokeResponse> {
    return this.member.leases.revoke(req, this.member.auth.proposerOf(meta, call));
  }

  @GrpcHandler('Lease', 'LeaseTimeToLive')
  timeToLive(req: pb.LeaseTimeToLiveRequest): Promise<pb.LeaseTimeToLiveResponse> {
    return this.member.leases.timeToLive(req);
  }

  @GrpcHandler('Lease', 'LeaseLeases')
  leases(): pb.LeaseLeasesResponse {
    return this.member.leases.leases();
  }

  /**
   * Answers every keep-alive in the order received; the first failure ends the stream with
   * its status, as etcd's does. Resolves when the call is over.
   */
  @GrpcStreamCall('Lease', 'LeaseKeepAlive')
  keepAlive(call: DuplexCall<pb.LeaseKeepAliveRequest, pb.LeaseKeepAliveResponse>): Promise<void> {
    return new Promise((done) => {
      let last: Promise<unknown> = Promise.resolve();
      let failed = false;
      const leases = this.member.leases;
      call.on('data', (req) => {
        last = last.then(async () => {
          if (failed) return;
          try {
            call.write(await leases.keepAlive(req));
          } catch (err) {
            failed = true;
            call.emit('error', err);
          }
        });
      });
      call.on('end', () => void last.then(() => failed || call.end()));
      call.on('error', () => done());
      call.on('cancelled', () => done());
      call.on('close', () => done());
    });
  }
}
