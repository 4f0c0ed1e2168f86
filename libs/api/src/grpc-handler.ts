import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { GrpcMethod } from '@nestjs/microservices';

const GRPC_HANDLER = Symbol('cairn:grpc-handler');

/** A handler method as GrpcHandler declared it. */
export interface DeclaredHandler {
  service: string;
  method: string;
  call: (request: unknown, metadata: unknown, call: unknown) => unknown;
}

/**
 * `@GrpcMethod`, for handlers that take the call's own arguments (request, metadata, call)
 * and validate requests themselves. Nest otherwise gives every microservice handler default
 * parameter metadata and runs its parameter pipeline (promises and closures) on each call;
 * with none declared, it calls the handler with the arguments as they are. The method is
 * also recorded so that the gRPC server can call unary ones without Nest's per-call context
 * (declaredHandlers, CairnGrpcServer.callDirectly).
 */
export function GrpcHandler(service: string, method: string): MethodDecorator {
  return (target, key, descriptor) => {
    GrpcMethod(service, method)(target, key, descriptor);
    Reflect.defineMetadata(ROUTE_ARGS_METADATA, {}, target.constructor, key);
    Reflect.defineMetadata(GRPC_HANDLER, { service, method }, target, key);
  };
}

/** The GrpcHandler methods of a controller instance, bound to it. */
export function declaredHandlers(controller: object): DeclaredHandler[] {
  const proto = Object.getPrototypeOf(controller) as object;
  const out: DeclaredHandler[] = [];
  for (const key of Object.getOwnPropertyNames(proto)) {
    const declared = Reflect.getMetadata(GRPC_HANDLER, proto, key) as
      { service: string; method: string } | undefined;
    const fn = Object.getOwnPropertyDescriptor(proto, key)?.value as unknown; // never a getter's value
    if (declared && typeof fn === 'function') out.push({ ...declared, call: fn.bind(controller) });
  }
  return out;
}
