import { ArgumentsHost, Catch, RpcExceptionFilter } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { Observable, throwError } from 'rxjs';
import { EtcdError, GrpcCode, Logger } from '../../server/src';

/**
 * Turns whatever a handler threw into a gRPC status: etcd errors keep their code and message,
 * anything else is an internal error (logged, never crashing the member).
 */
@Catch()
export class GrpcErrorFilter implements RpcExceptionFilter<unknown> {
  constructor(private readonly logger: Logger) {}

  catch(err: unknown, _host: ArgumentsHost): Observable<never> {
    return throwError(() => grpcErrorOf(err, this.logger));
  }
}

/** The gRPC status a handler's error is answered with (what GrpcErrorFilter sends). */
export function grpcErrorOf(err: unknown, logger: Logger): unknown {
  if (err instanceof EtcdError) return { code: err.code, message: err.message };
  if (err instanceof RpcException) return err.getError();
  logger.error('request failed', { error: err instanceof Error ? err.stack : String(err) });
  return { code: GrpcCode.INTERNAL, message: `etcdserver: ${String((err as Error)?.message ?? err)}` };
}
