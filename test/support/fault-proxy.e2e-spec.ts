// The fault-injecting peer network must attribute connections to the right process and cut
// exactly the links it is told to; cluster fault tests depend on it.
import { ChildProcess, spawn } from 'node:child_process';
import { Server, createConnection, createServer } from 'node:net';
import { once } from 'node:events';
import { PeerNetwork } from './fault-proxy';

// A client process: dials the port, writes every stdin line to it, prints what comes back.
const CLIENT = `
const s = require('net').createConnection({ host: '127.0.0.1', port: +process.argv[1] });
s.on('data', (d) => process.stdout.write(d));
s.on('close', () => { process.stdout.write('CLOSED\\n'); process.exit(0); });
process.stdin.on('data', (d) => s.write(d));
`;

describe('PeerNetwork', () => {
  let net: PeerNetwork;
  let echo: Server;
  let child: ChildProcess;
  let output = '';

  beforeEach(async () => {
    net = await PeerNetwork.create(['a', 'b']);
    const b = net.peers.get('b')!;
    echo = createServer((s) => s.pipe(s));
    echo.listen(Number(new URL(b.listenUrl).port), '127.0.0.1');
    await once(echo, 'listening');
    output = '';
  });

  afterEach(async () => {
    child?.kill('SIGKILL');
    await net.close();
    echo.close();
  });

  function startClient(port: number): ChildProcess {
    const c = spawn(process.execPath, ['-e', CLIENT, String(port)], { stdio: ['pipe', 'pipe', 'inherit'] });
    c.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    return c;
  }

  async function waitFor(text: string): Promise<void> {
    for (let i = 0; i < 500 && !output.includes(text); i++) await new Promise((r) => setTimeout(r, 10));
    expect(output).toContain(text);
  }

  it('forwards, cuts one direction of a registered member, and resets the link on heal', async () => {
    const port = Number(new URL(net.peers.get('b')!.advertisedUrl).port);
    child = startClient(port);
    net.register('a', child.pid!);
    child.stdin!.write('hello\n');
    await waitFor('hello');

    net.cut('a', 'b');
    child.stdin!.write('lost\n');
    // An outsider's connection to the same member still flows while a's link is cut.
    const outsider = createConnection({ host: '127.0.0.1', port });
    outsider.write('outsider\n');
    const [reply] = await once(outsider, 'data');
    expect(reply.toString()).toBe('outsider\n');
    outsider.destroy();

    while (net.droppedBytes < 'lost\n'.length) await new Promise((r) => setTimeout(r, 10));
    net.heal();
    await waitFor('CLOSED');
    expect(output).not.toContain('lost');
  });

  it('blackholes a new connection from a member that is already isolated', async () => {
    net.isolate('a');
    const port = Number(new URL(net.peers.get('b')!.advertisedUrl).port);
    child = startClient(port);
    // Registered before this turn ends, so before the proxy can accept the child's connection.
    net.register('a', child.pid!);
    child.stdin!.write('dropped\n');
    while (net.droppedBytes < 'dropped\n'.length) await new Promise((r) => setTimeout(r, 10));
    net.heal();
    await waitFor('CLOSED');
    expect(output).not.toContain('dropped');
  });
});
