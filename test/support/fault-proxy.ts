// A fault-injecting network between member processes on loopback. Every member advertises a
// proxy port as its peer URL; the proxy forwards to the member's real peer port. Each accepted
// connection is attributed to the process that opened it (through /proc), so a rule such as
// "nothing from m1 reaches m2" cuts exactly that direction while other members still talk.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { Server, Socket, createConnection, createServer } from 'node:net';
import { freePort } from './members';

export interface ProxiedPeer {
  name: string;
  /** What the member listens on (--listen-peer-urls). */
  listenUrl: string;
  /** What everyone dials (--initial-advertise-peer-urls, --initial-cluster). */
  advertisedUrl: string;
}

interface Link {
  from: string;
  to: string;
  client: Socket;
  server: Socket;
  /** Set once the link is cut: bytes are read and dropped, as a network that loses packets. */
  blackholed: boolean;
}

/** Connections from processes the network does not know (etcdctl, tests) are never cut. */
const OUTSIDER = '';

export class PeerNetwork {
  private readonly pids = new Map<number, string>();
  private readonly blocked = new Set<string>();
  private readonly links = new Set<Link>();
  private readonly servers: Server[] = [];
  readonly peers = new Map<string, ProxiedPeer>();
  /** Bytes lost on cut links so far. */
  droppedBytes = 0;

  static async create(names: string[]): Promise<PeerNetwork> {
    const net = new PeerNetwork();
    for (const name of names) {
      const [listen, advertised] = [await freePort(), await freePort()];
      net.peers.set(name, {
        name,
        listenUrl: `http://127.0.0.1:${listen}`,
        advertisedUrl: `http://127.0.0.1:${advertised}`,
      });
      net.servers.push(await net.proxy(name, advertised, listen));
    }
    return net;
  }

  /** Tells the network which process is which member (after every start or restart). */
  register(name: string, pid: number): void {
    for (const [p, n] of this.pids) if (n === name) this.pids.delete(p);
    this.pids.set(pid, name);
  }

  /** Drops everything `from` sends to `to` (one direction). */
  cut(from: string, to: string): void {
    this.blocked.add(key(from, to));
    for (const link of this.links) if (this.blocked.has(key(link.from, link.to))) link.blackholed = true;
  }

  /** Cuts every link between the member and the rest, both ways. */
  isolate(name: string): void {
    for (const other of this.peers.keys()) {
      if (other === name) continue;
      this.cut(name, other);
      this.cut(other, name);
    }
  }

  /** Restores every link. Connections that lost bytes are closed so that both ends reconnect. */
  heal(): void {
    this.blocked.clear();
    for (const link of this.links) {
      if (!link.blackholed) continue;
      link.client.destroy();
      link.server.destroy();
    }
  }

  async close(): Promise<void> {
    for (const link of this.links) {
      link.client.destroy();
      link.server.destroy();
    }
    await Promise.all(this.servers.map((s) => new Promise((done) => s.close(done))));
  }

  private proxy(to: string, port: number, target: number): Promise<Server> {
    const server = createServer((client) => {
      const from = this.ownerOf(client);
      const upstream = createConnection({ host: '127.0.0.1', port: target });
      // Both directions stop at once: a reply to a member that cannot be reached is lost too.
      const link: Link = { from, to, client, server: upstream, blackholed: this.blocked.has(key(from, to)) };
      this.links.add(link);
      const forget = () => {
        this.links.delete(link);
        client.destroy();
        upstream.destroy();
      };
      client.on('close', forget).on('error', forget);
      upstream.on('close', forget).on('error', forget);
      const relay = (to: Socket) => (d: Buffer) => {
        if (link.blackholed) this.droppedBytes += d.length;
        else to.write(d);
      };
      client.on('data', relay(upstream));
      upstream.on('data', relay(client));
    });
    return new Promise((ok, fail) => {
      server.once('error', fail);
      server.listen(port, '127.0.0.1', () => ok(server));
    });
  }

  /** The member whose process opened this connection, found through its socket's inode. */
  private ownerOf(socket: Socket): string {
    const inode = socketInode(socket.remotePort!, socket.localPort!);
    if (inode === undefined) return OUTSIDER;
    const link = `socket:[${inode}]`;
    for (const [pid, name] of this.pids) {
      let fds: string[];
      try {
        fds = readdirSync(`/proc/${pid}/fd`);
      } catch {
        continue; // the process has exited
      }
      for (const fd of fds) {
        try {
          if (readlinkSync(`/proc/${pid}/fd/${fd}`) === link) return name;
        } catch {
          // closed while we looked
        }
      }
    }
    return OUTSIDER;
  }
}

function key(from: string, to: string): string {
  return `${from}>${to}`;
}

/** The inode of the loopback socket bound to `localPort` and connected to `remotePort`. */
function socketInode(localPort: number, remotePort: number): string | undefined {
  const local = `0100007F:${hex4(localPort)}`;
  const remote = `0100007F:${hex4(remotePort)}`;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols[1] === local && cols[2] === remote) return cols[9];
  }
  return undefined;
}

function hex4(port: number): string {
  return port.toString(16).toUpperCase().padStart(4, '0');
}
