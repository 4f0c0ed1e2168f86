import { createServer, Server } from 'net';
import { freePort } from './ports';

describe('freePort', () => {
  it('hands out distinct, bindable ports below the ephemeral range', async () => {
    const ports: number[] = [];
    for (let i = 0; i < 50; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(50);
    for (const p of ports) expect(p >= 20000 && p < 32768).toBe(true);
    const servers: Server[] = [];
    try {
      for (const p of ports)
        servers.push(
          await new Promise<Server>((ok, fail) => {
            const s = createServer().once('error', fail);
            s.listen(p, '127.0.0.1', () => ok(s));
          }),
        );
      // While they are all taken, new ports are still free ones.
      const more = await freePort();
      expect(ports).not.toContain(more);
    } finally {
      await Promise.all(servers.map((s) => new Promise((ok) => s.close(ok))));
    }
  });
});
