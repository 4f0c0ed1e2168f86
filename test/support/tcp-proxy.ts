// A loopback TCP proxy whose connections a test can cut or whose answers it can swallow: real
// network faults between a client and a member, without stopping the member.
import { Server, Socket, createConnection, createServer } from 'node:net';

export interface TcpProxy {
  /** host:port clients connect to. */
  endpoint: string;
  /** Destroys every open connection (clients see the connection drop). */
  cut(): void;
  /** While true, bytes from the member to the client are discarded (requests still arrive). */
  swallowAnswers: boolean;
  /** While true, new connections are refused (closed at once). */
  refuse: boolean;
  close(): Promise<void>;
}

export async function startProxy(target: string): Promise<TcpProxy> {
  const [host, port] = target.split(':');
  const sockets = new Set<Socket>();
  const track = (s: Socket) => (sockets.add(s), s.once('close', () => sockets.delete(s)));
  const proxy: TcpProxy = {
    endpoint: '',
    swallowAnswers: false,
    refuse: false,
    cut: () => sockets.forEach((s) => s.destroy()),
    close: () => new Promise((ok) => (proxy.cut(), server.close(() => ok()))),
  };
  const server: Server = createServer((down) => {
    if (proxy.refuse) return down.destroy();
    const up = createConnection({ host, port: Number(port) });
    track(down);
    track(up);
    down.on('data', (d) => up.write(d));
    up.on('data', (d) => proxy.swallowAnswers || down.write(d));
    const end = () => (down.destroy(), up.destroy());
    down.on('close', end).on('error', end);
    up.on('close', end).on('error', end);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  proxy.endpoint = `127.0.0.1:${(server.address() as { port: number }).port}`;
  return proxy;
}
