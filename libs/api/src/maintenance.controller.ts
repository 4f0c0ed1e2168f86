import { Controller, Inject } from '@nestjs/common';
import { GrpcHandler } from './grpc-handler';
import { Observable } from 'rxjs';
import { Member, RequestCall, RequestMetadata, pb } from '../../server/src';
import { MEMBER } from './tokens';

/** The part of a server-streaming call the snapshot stream paces itself on. */
interface WritableCall extends RequestCall {
  writableNeedDrain?: boolean;
  once(event: string, listener: () => void): unknown;
  off(event: string, listener: () => void): unknown;
}

/** etcdserverpb.Maintenance. */
@Controller()
export class MaintenanceController {
  constructor(@Inject(MEMBER) private readonly member: Member) {}

  @GrpcHandler('Maintenance', 'Status')
  status(): pb.StatusResponse {
    return this.member.status();
  }

  @GrpcHandler('Maintenance', 'Alarm')
  alarm(req: pb.AlarmRequest, meta?: RequestMetadata, call?: RequestCall): Promise<pb.AlarmResponse> {
    this.member.auth.checkTokenRaw(meta, call);
    return this.member.alarm(req);
  }

  @GrpcHandler('Maintenance', 'Hash')
  hash(_req: unknown, meta?: RequestMetadata, call?: RequestCall): Promise<pb.HashResponse> {
    this.member.auth.checkMaintenanceAdmin(meta, call);
    return this.member.hash();
  }

  @GrpcHandler('Maintenance', 'HashKV')
  hashKV(req: pb.HashKVRequest, meta?: RequestMetadata, call?: RequestCall): Promise<pb.HashKVResponse> {
    this.member.auth.checkMaintenanceAdmin(meta, call);
    return this.member.hashKV(req);
  }

  @GrpcHandler('Maintenance', 'Defragment')
  defragment(_req: unknown, meta?: RequestMetadata, call?: RequestCall): Promise<pb.DefragmentResponse> {
    this.member.auth.checkMaintenanceAdmin(meta, call);
    return this.member.defragment();
  }

  @GrpcHandler('Maintenance', 'MoveLeader')
  moveLeader(req: pb.MoveLeaderRequest): Promise<pb.MoveLeaderResponse> {
    return this.member.moveLeader(req);
  }

  /**
   * Streams the member's snapshot, reading the next chunk only once gRPC has taken the previous
   * one (Nest would otherwise buffer the whole database in memory for a slow client); a
   * cancelled call stops the scan and releases its iterator.
   */
  @GrpcHandler('Maintenance', 'Snapshot')
  snapshot(_req: unknown, meta?: RequestMetadata, call?: WritableCall): Observable<pb.SnapshotResponse> {
    // etcd 3.4 refuses a non-root caller on the stream, not when the call starts.
    return new Observable<pb.SnapshotResponse>((subscriber) => {
      try {
        this.member.auth.checkMaintenanceAdmin(meta, call);
      } catch (err) {
        subscriber.error(err);
        return;
      }
      let stopped = false;
      let wake: (() => void) | undefined;
      const stream = this.member.snapshot();
      void (async () => {
        try {
          for await (const msg of stream) {
            if (stopped) break;
            subscriber.next(msg);
            if (call?.writableNeedDrain) await drained(call, (w) => (wake = w));
            if (stopped) break;
          }
          subscriber.complete();
        } catch (err) {
          subscriber.error(err);
        }
      })();
      return () => {
        stopped = true;
        wake?.();
      };
    });
  }
}

function drained(call: WritableCall, onWake: (wake: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      for (const e of ['drain', 'close', 'error']) call.off(e, done);
      resolve();
    };
    for (const e of ['drain', 'close', 'error']) call.once(e, done);
    onWake(done);
  });
}
