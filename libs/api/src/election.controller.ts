import { Controller, Inject } from '@nestjs/common';
import { GrpcHandler } from './grpc-handler';
import { Observable } from 'rxjs';
import {
  ElectionService,
  LeaderKey,
  LeaderResponse,
  Member,
  RequestCall,
  RequestMetadata,
  pb,
} from '../../server/src';
import { CancellableCall, callSignal } from './call-signal';
import { viaEmbeddedClient } from './coordination-errors';
import { MEMBER } from './tokens';

type Header = { header: pb.ResponseHeader };

/** v3electionpb.Election. */
@Controller()
export class ElectionController {
  private readonly elections: ElectionService;

  constructor(@Inject(MEMBER) private readonly member: Member) {
    this.elections = new ElectionService(member);
  }

  @GrpcHandler('Election', 'Campaign')
  campaign(
    req: { name?: Buffer; lease?: string; value?: Buffer },
    meta?: RequestMetadata,
    call?: RequestCall & CancellableCall,
  ): Promise<Header & { leader: LeaderKey }> {
    return viaEmbeddedClient(() =>
      this.elections.campaign(req, callSignal(call), this.member.auth.infoFrom(meta, call)),
    );
  }

  @GrpcHandler('Election', 'Proclaim')
  proclaim(
    req: { leader?: LeaderKey; value?: Buffer },
    meta?: RequestMetadata,
    call?: RequestCall,
  ): Promise<Header> {
    return viaEmbeddedClient(() => this.elections.proclaim(req, this.member.auth.infoFrom(meta, call)));
  }

  @GrpcHandler('Election', 'Leader')
  leader(req: { name?: Buffer }, meta?: RequestMetadata, call?: RequestCall): Promise<LeaderResponse> {
    return viaEmbeddedClient(() => this.elections.leader(req, this.member.auth.infoFrom(meta, call)));
  }

  /**
   * A server stream, until the client cancels (Nest then unsubscribes). As etcd's, it ends
   * with status OK, and no error, when observing fails (a refused permission, a compaction).
   */
  @GrpcHandler('Election', 'Observe')
  observe(req: { name?: Buffer }, meta?: RequestMetadata, call?: RequestCall): Observable<LeaderResponse> {
    return new Observable((subscriber) => {
      const stop = new AbortController();
      const send = (res: LeaderResponse) => subscriber.next(res);
      Promise.resolve()
        .then(() => this.elections.observe(req, send, stop.signal, this.member.auth.infoFrom(meta, call)))
        .catch(() => subscriber.complete());
      return () => stop.abort();
    });
  }

  @GrpcHandler('Election', 'Resign')
  resign(req: { leader?: LeaderKey }, meta?: RequestMetadata, call?: RequestCall): Promise<Header> {
    return viaEmbeddedClient(() => this.elections.resign(req, this.member.auth.infoFrom(meta, call)));
  }
}
