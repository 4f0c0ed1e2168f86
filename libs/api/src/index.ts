export { startGrpcServers, LOADER_OPTIONS } from './grpc-server';
export type { GrpcServerOptions, ClientListener, ClientTls } from './grpc-server';
export { ApiModule } from './api.module';
export { startMetricsServers } from './metrics-server';
export type { MetricsListener } from './metrics-server';
export { WATCH_STREAM_HIGH_WATER_BYTES, watchBufferedBytes } from './watch.controller';
