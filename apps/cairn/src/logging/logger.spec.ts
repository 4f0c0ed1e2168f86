import { Writable } from 'node:stream';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from './logger';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  return { lines, stream: stream as unknown as NodeJS.WritableStream };
}

describe('createLogger', () => {
  it('writes zap-shaped JSON lines: level (lowercase), ts, msg, fields; no pid/hostname', () => {
    const { lines, stream } = capture();
    const log = createLogger({ logLevel: 'info', logOutputs: ['stderr'] }, stream as any);
    log.info('started member', { name: 'n1', port: 2379 });
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]);
    expect(line).toEqual({
      level: 'info',
      ts: expect.any(String),
      msg: 'started member',
      name: 'n1',
      port: 2379,
    });
    expect(new Date(line.ts).toISOString()).toBe(line.ts);
  });

  it('filters by --log-level', () => {
    const { lines, stream } = capture();
    const log = createLogger({ logLevel: 'warn', logOutputs: ['stderr'] }, stream as any);
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(lines.map((l) => JSON.parse(l).level)).toEqual(['warn', 'error']);
  });

  it('debug level shows debug lines; panic level hides error lines', () => {
    const a = capture();
    createLogger({ logLevel: 'debug', logOutputs: ['stderr'] }, a.stream as any).debug('x');
    expect(a.lines).toHaveLength(1);
    const b = capture();
    createLogger({ logLevel: 'panic', logOutputs: ['stderr'] }, b.stream as any).error('x');
    expect(b.lines).toHaveLength(0);
  });

  it('child loggers carry their fields', () => {
    const { lines, stream } = capture();
    createLogger({ logLevel: 'info', logOutputs: ['stderr'] }, stream as any)
      .child({ component: 'raft' })
      .info('tick');
    expect(JSON.parse(lines[0])).toMatchObject({ component: 'raft', msg: 'tick' });
  });

  it('writes to a file output (zap accepts paths in --log-outputs)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cairn-log-')), 'sub', 'member.log');
    const log = createLogger({ logLevel: 'info', logOutputs: [file] });
    log.info('to file');
    // file outputs are asynchronous (the event loop must not block on disk)
    for (let i = 0; i < 100 && !(existsSync(file) && readFileSync(file, 'utf8').includes('\n')); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const line = JSON.parse(readFileSync(file, 'utf8').trim());
    expect(line).toMatchObject({ level: 'info', msg: 'to file' });
  });
});
