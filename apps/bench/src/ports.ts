// Loopback ports for the servers the bench harness and the tests start. They come from below
// Linux's ephemeral range (32768 and up): a port the kernel chose for us could be handed, before
// our server binds it, to an outgoing connection of another process or client, and the server
// would fail with EADDRINUSE.
import { createServer } from 'net';

const PORT_RANGE = { first: 20000, last: 32767 };
const handedOut = new Set<number>();

/** A loopback port nothing listens on now, not handed out before by this process. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const port = PORT_RANGE.first + Math.floor(Math.random() * (PORT_RANGE.last - PORT_RANGE.first + 1));
    if (handedOut.has(port) || !(await canListen(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error('no free loopback port found');
}

function canListen(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => ok(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => ok(true)));
  });
}
