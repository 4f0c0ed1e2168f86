import * as grpc from '@grpc/grpc-js';
import { INestMicroservice, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MicroserviceOptions } from '@nestjs/microservices';
import { TlsMaterial, serverCredentials } from '../../consensus/src';
import { ETCD_PROTO_DIR, Logger, Member } from '../../server/src';
import { API_CONTROLLERS, ApiModule } from './api.module';
import { GrpcErrorFilter, grpcErrorOf } from './grpc-errors';
import { declaredHandlers } from './grpc-handler';
import { CairnGrpcServer } from './grpc-transport';
import { GRPC_OVERHEAD_BYTES, Limits } from './tokens';

export interface ClientListener {
  host: string;
  port: number;
  /** An https:// listener: served with `GrpcServerOptions.tls`. */
  tls?: boolean;
}

/** Client TLS material (--cert-file, ..., --client-crl-file, --cipher-suites), read and checked by the daemon. */
export type ClientTls = TlsMaterial;

export interface GrpcServerOptions {
  listeners: ClientListener[];
  limits: Limits;
  logger: Logger;
  tls?: ClientTls;
  keepaliveMinTimeMs?: number;
  keepaliveIntervalMs?: number;
  keepaliveTimeoutMs?: number;
  maxConcurrentStreams?: number;
}

/** How the wire messages are decoded for handlers (see etcd-types.ts for the shapes). */
export const LOADER_OPTIONS = {
  keepCase: true,
  longs: String,
  // No defaults: a field that was sent empty must stay distinguishable from one not sent
  // (etcd reads a present but empty range_end as "every key from key on").
  defaults: false,
  oneofs: true,
  includeDirs: [ETCD_PROTO_DIR],
};

/** Serves the member's etcd API on every client listener; resolves once all are bound. */
export async function startGrpcServers(
  member: Member,
  opts: GrpcServerOptions,
): Promise<{ close(): Promise<void> }> {
  routeGrpcLogs(opts.logger);
  const apps: INestMicroservice[] = [];
  try {
    for (const l of opts.listeners) {
      const host = l.host.includes(':') ? `[${l.host}]` : l.host;
      const strategy = new CairnGrpcServer(
        {
          url: `${host}:${l.port}`,
          credentials: credentialsFor(l, opts.tls),
          package: ['etcdserverpb', 'v3lockpb', 'v3electionpb'],
          protoPath: ['etcdserverpb/rpc.proto', 'v3lockpb/v3lock.proto', 'v3electionpb/v3election.proto'],
          loader: LOADER_OPTIONS,
          maxReceiveMessageLength: opts.limits.maxRequestBytes + GRPC_OVERHEAD_BYTES,
          maxSendMessageLength: 2 ** 31 - 1,
          channelOptions: channelOptions(opts),
        },
        (err) => grpcErrorOf(err, opts.logger),
      );
      const app = await NestFactory.createMicroservice<MicroserviceOptions>(
        ApiModule.forMember(member, opts.limits, opts.logger),
        { logger: nestLogger(opts.logger), strategy },
      );
      apps.push(app);
      app.useGlobalFilters(new GrpcErrorFilter(opts.logger));
      await app.init();
      for (const controller of API_CONTROLLERS)
        for (const h of declaredHandlers(app.get(controller)))
          strategy.callDirectly(h.service, h.method, h.call);
      await app.listen();
    }
  } catch (err) {
    await Promise.all(apps.map((a) => a.close()));
    throw err;
  }
  return { close: async () => void (await Promise.all(apps.map((a) => a.close()))) };
}

/** TLS for an https:// listener (never plain text in its place), insecure for http://. */
function credentialsFor(l: ClientListener, tls: ClientTls | undefined): grpc.ServerCredentials {
  if (!l.tls) return grpc.ServerCredentials.createInsecure();
  if (!tls) throw new Error(`no TLS certificate for the https listener ${l.host}:${l.port}`);
  return serverCredentials(tls);
}

function channelOptions(opts: GrpcServerOptions): Record<string, number> {
  // Channelz bookkeeping costs CPU on every call and nothing here reads it.
  const out: Record<string, number> = { 'grpc.enable_channelz': 0 };
  if (opts.keepaliveIntervalMs) out['grpc.keepalive_time_ms'] = opts.keepaliveIntervalMs;
  if (opts.keepaliveTimeoutMs) out['grpc.keepalive_timeout_ms'] = opts.keepaliveTimeoutMs;
  if (opts.keepaliveMinTimeMs) out['grpc.http2.min_ping_interval_without_data_ms'] = opts.keepaliveMinTimeMs;
  if (opts.maxConcurrentStreams)
    out['grpc.max_concurrent_streams'] = Math.min(opts.maxConcurrentStreams, 2 ** 31 - 1);
  return out;
}

/** grpc-js prints its own plain-text lines to stderr; keep the member's log JSON-only. */
function routeGrpcLogs(logger: Logger): void {
  const line = (...args: unknown[]) => args.map(String).join(' ');
  grpc.setLogger({
    error: (...args: unknown[]) => logger.warn(`grpc: ${line(...args)}`),
    info: (...args: unknown[]) => logger.debug(`grpc: ${line(...args)}`),
    debug: (...args: unknown[]) => logger.debug(`grpc: ${line(...args)}`),
  } as Partial<Console> as Console);
}

/** Routes Nest's own log lines into the member's structured log (warnings and errors only). */
function nestLogger(logger: Logger): LoggerService {
  return {
    log: () => undefined,
    debug: () => undefined,
    verbose: () => undefined,
    warn: (message: unknown) => logger.warn(String(message)),
    error: (message: unknown, trace?: unknown) =>
      logger.error(String(message), trace ? { trace } : undefined),
  };
}
