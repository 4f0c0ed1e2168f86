import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCtl } from './cli';

/** Runs cairnctl in-process, collecting what it prints. */
async function ctl(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCtl(argv, { out: (t) => (stdout += t), err: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

describe('cairnctl arguments', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'cairnctl-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("answers bad command lines with etcdctl's errors and status 1", async () => {
    expect(await ctl('snapshot', 'status')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'Error: snapshot status requires exactly one argument\n',
    });
    expect((await ctl('snapshot', 'restore', 'a', 'b')).stderr).toBe(
      'Error: snapshot restore requires exactly one argument\n',
    );
    expect((await ctl('snapshot', 'status', 'x', '-w', 'yaml')).stderr).toBe(
      'Error: unsupported output format\n',
    );
    expect((await ctl('snapshot', 'status', 'x', '-w', 'protobuf')).stderr).toBe(
      'Error: protobuf not supported as output format\n',
    );
    expect((await ctl('snapshot', 'status', join(dir, 'none'))).stderr).toBe(
      `Error: stat ${join(dir, 'none')}: no such file or directory\n`,
    );
    expect((await ctl('snapshot', 'restore', join(dir, 'none'))).stderr).toBe(
      `Error: open ${join(dir, 'none')}: no such file or directory\n`,
    );
    expect((await ctl('snapshot', 'frobnicate')).code).toBe(1);
    expect((await ctl('snapshot', 'status', 'x', '--bogus')).code).toBe(1);
  });

  it("checks the restore flags as etcd's bootstrap does, before reading the file", async () => {
    const file = join(dir, 'not-a-snapshot');
    writeFileSync(file, 'hello');
    const restore = (...flags: string[]) =>
      ctl('snapshot', 'restore', file, '--data-dir', join(dir, 'd'), ...flags);
    expect((await restore('--initial-cluster', 'default=bad')).stderr).toBe(
      'Error: URL scheme must be http, https, unix, or unixs: bad\n',
    );
    expect((await restore('--initial-advertise-peer-urls', 'http://127.0.0.1:1')).stderr).toBe(
      'Error: --initial-cluster has default=http://localhost:2380 but missing from ' +
        '--initial-advertise-peer-urls=http://127.0.0.1:1\n',
    );
    expect((await restore()).stderr).toBe('Error: snapshot missing hash but --skip-hash-check=false\n');
    expect((await restore('--skip-hash-check')).stderr).toBe('Error: not a Cairn snapshot: bad magic\n');
  });
});
