import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { GrpcMethod } from '@nestjs/microservices';

/**
 * `@GrpcMethod`, for handlers that take the call's own arguments (request, metadata, call)
 * and validate requests themselves. Nest otherwise gives every microservice handler default
 * parameter metadata and runs its parameter pipeline (promises and closures) on each call;
 * with none declared, it calls the handler with the arguments as they are.
 */
export function GrpcHandler(service: string, method: string): MethodDecorator {
  return (target, key, descriptor) => {
    GrpcMethod(service, method)(target, key, descriptor);
    Reflect.defineMetadata(ROUTE_ARGS_METADATA, {}, target.constructor, key);
  };
}
