import type { Server } from '@grpc/grpc-js';
import { GrpcMethodStreamingType, GrpcOptions, ServerGrpc } from '@nestjs/microservices';
import { isObservable } from 'rxjs';
import { serveUnaryDirectly } from './direct-unary';
import { KV_RESPONSE_FRAMES } from './kv-frames';
import { useStreamTables } from './stream-table';

type UnaryCallback = (err: unknown, value?: unknown) => void;
type MethodHandler = (request: unknown, metadata: unknown, call: unknown) => unknown;
type UnaryMethod = (call: { request: unknown; metadata: unknown }, callback: UnaryCallback) => Promise<void>;

/**
 * Nest's gRPC server with a shorter unary path: unary calls are read from and answered on the
 * HTTP/2 stream directly (direct-unary.ts), and the handler's result is awaited and sent.
 * Nest's own path copies the call object for a processing hook (unused here) and wraps each
 * result in an Observable to subscribe to, on every call. A handler that failed still comes
 * back from the exception filter as an Observable that errors; it is answered the same way.
 *
 * Handlers given to callDirectly (controllers that declare no guards, pipes or interceptors)
 * skip Nest's per-call context and proxy too (three async wrappers per call); their errors
 * are mapped as the exception filter maps them.
 */
export class CairnGrpcServer extends ServerGrpc {
  private readonly direct = new Map<unknown, MethodHandler>();

  constructor(
    private readonly settings: GrpcOptions['options'],
    private readonly errorOf: (err: unknown) => unknown,
  ) {
    super(settings);
  }

  /** Calls `handler` itself for the unary method service/method. Between app.init and listen. */
  callDirectly(service: string, method: string, handler: MethodHandler): void {
    const pattern = this.createPattern(service, method, GrpcMethodStreamingType.NO_STREAMING);
    const nest = this.messageHandlers.get(pattern);
    if (nest) this.direct.set(nest, handler);
  }

  override async createClient(): Promise<unknown> {
    const server = await super.createClient();
    serveUnaryDirectly(server as Server, this.settings.credentials, KV_RESPONSE_FRAMES);
    // grpc-js's HTTP/2 servers, one per bound address (see stream-table.ts for why).
    const { http2Servers } = server as unknown as { http2Servers?: unknown };
    if (http2Servers instanceof Map) for (const h2 of http2Servers.keys()) useStreamTables(h2);
    return server;
  }

  override createUnaryServiceMethod(methodHandler: MethodHandler): UnaryMethod {
    // A direct handler's errors reach here as thrown; Nest's come back from the filter mapped.
    const direct = this.direct.get(methodHandler);
    const handler = direct ?? methodHandler;
    const toStatus = direct ? this.errorOf : (err: unknown) => err;
    return async (call, callback) => {
      let result: unknown;
      try {
        result = await handler(call.request, call.metadata, call);
      } catch (err) {
        callback(toStatus(err));
        return;
      }
      if (!isObservable(result)) {
        callback(null, result);
        return;
      }
      let answered = false;
      const answer = (err: unknown, value?: unknown): void => {
        if (answered) return;
        answered = true;
        callback(err, value);
      };
      result.subscribe({ next: (value) => answer(null, value), error: (err) => answer(err) });
    };
  }
}
