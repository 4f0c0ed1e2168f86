import { Controller, Inject } from '@nestjs/common';
import { GrpcStreamCall } from '@nestjs/microservices';
import { Logger, Member, RequestCall, RequestMetadata } from '../../server/src';
import { WatchReply, WatchStream, WatchTransport } from '../../watch/src';
import { GRPC_OVERHEAD_BYTES, LIMITS, LOGGER, Limits, MEMBER } from './tokens';
import { fragment, responseSize } from './watch-fragments';
import { WatchRequest, WireWatchResponse, watchSpec, wireReply } from './watch-wire';

/** The part of grpc-js's bidirectional server call the Watch stream uses. */
interface WatchCall extends RequestCall {
  /** The stream's metadata: the caller's token, once auth is on. */
  metadata: RequestMetadata;
  write(msg: WireWatchResponse, cb: () => void): boolean;
  end(): void;
  on(event: 'data', listener: (req: WatchRequest) => void): unknown;
  on(event: 'end' | 'close' | 'cancelled', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

/**
 * Bytes a stream may have written and not yet flushed to the client before its watchers are
 * moved aside (they then catch up from history); it resumes at half. The bound is what keeps a
 * client that stops reading from costing the member more memory.
 */
export const WATCH_STREAM_HIGH_WATER_BYTES = 4 * 1024 * 1024;
const LOW_WATER_BYTES = WATCH_STREAM_HIGH_WATER_BYTES / 2;

// The live streams' transports, for the member-wide count of unflushed watch bytes.
const transports = new Set<GrpcWatchTransport>();

/** For each live Watch stream, the bytes written to it and not yet flushed to its client. */
export function watchBufferedBytes(): number[] {
  return [...transports].map((t) => t.buffered);
}

/** Writes a Watch stream's replies to its gRPC call, keeping count of what is unflushed. */
class GrpcWatchTransport implements WatchTransport {
  private unflushed = 0;
  private blocked = false;
  private ended = false;
  stream!: WatchStream;

  constructor(
    private readonly call: WatchCall,
    private readonly member: Member,
    private readonly fragmentBytes: number,
  ) {}

  get ready(): boolean {
    return !this.ended && this.unflushed < WATCH_STREAM_HIGH_WATER_BYTES;
  }

  get buffered(): number {
    return this.unflushed;
  }

  send(reply: WatchReply): void {
    if (this.ended) return;
    const res = wireReply(reply, (rev) => this.member.header(rev));
    const parts = reply.kind === 'events' && reply.fragment ? fragment(res, this.fragmentBytes) : [res];
    for (const part of parts) this.write(part);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.call.end();
  }

  private write(res: WireWatchResponse): void {
    const bytes = responseSize(res);
    this.unflushed += bytes;
    if (this.unflushed >= WATCH_STREAM_HIGH_WATER_BYTES) this.blocked = true;
    this.call.write(res, () => {
      this.unflushed -= bytes;
      if (this.blocked && this.unflushed <= LOW_WATER_BYTES) {
        this.blocked = false;
        this.stream.resume();
      }
    });
  }

  closed(): void {
    this.ended = true;
  }
}

/** etcdserverpb.Watch: one bidirectional stream, many watches. */
@Controller()
export class WatchController {
  constructor(
    @Inject(MEMBER) private readonly member: Member,
    @Inject(LIMITS) private readonly limits: Limits,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @GrpcStreamCall('Watch', 'Watch')
  watch(call: WatchCall): Promise<void> {
    // etcd fragments at its request limit plus the gRPC slack, not at the limit itself.
    const fragmentBytes = this.limits.maxRequestBytes + GRPC_OVERHEAD_BYTES;
    const transport = new GrpcWatchTransport(call, this.member, fragmentBytes);
    const stream = new WatchStream(this.member.watchHub, transport, {
      progressNotifyIntervalMs: this.member.config.watchProgressNotifyIntervalMs ?? 10 * 60 * 1000,
    });
    transport.stream = stream;
    transports.add(transport);
    return new Promise<void>((resolve) => {
      const finish = () => {
        stream.close();
        transport.closed();
        transports.delete(transport);
        resolve();
      };
      call.on('data', (req) => {
        try {
          this.handle(stream, req, call);
        } catch (err) {
          this.logger.warn('watch request failed', { error: String(err) });
        }
      });
      // The client closed its side: etcd then ends the stream.
      call.on('end', () => {
        stream.close();
        transport.end();
      });
      call.on('close', finish);
      call.on('cancelled', finish);
      call.on('error', finish);
    });
  }

  private handle(stream: WatchStream, req: WatchRequest, call: WatchCall): void {
    if (req.create_request) {
      const c = req.create_request;
      const refusal = this.member.auth.watchRefusal(
        call.metadata,
        call,
        c.key ?? Buffer.alloc(0),
        // etcd 3.4 turns "\0" (from key on) into an empty end before its check, which then
        // covers the first key only: the binary is the judge, so Cairn checks the same.
        c.range_end && c.range_end.length > 0 && !isFromKey(c.range_end) ? c.range_end : undefined,
      );
      if (refusal) return stream.refuse(refusal);
      const { watchId, spec } = watchSpec(c);
      stream.create(watchId, spec);
    } else if (req.cancel_request) {
      stream.cancel(BigInt(req.cancel_request.watch_id ?? 0));
    } else if (req.progress_request) {
      stream.progress();
    }
    // Anything else is ignored, as etcd 3.4 does.
  }
}

function isFromKey(end: Buffer): boolean {
  return end.length === 1 && end[0] === 0;
}
