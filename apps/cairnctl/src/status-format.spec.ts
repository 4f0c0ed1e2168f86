import { formatStatus, humanBytes } from './status-format';

describe('snapshot status output', () => {
  it("prints sizes as go-humanize's Bytes does (etcdctl's)", () => {
    expect(humanBytes(0)).toBe('0 B');
    expect(humanBytes(9)).toBe('9 B');
    expect(humanBytes(999)).toBe('999 B');
    expect(humanBytes(1000)).toBe('1.0 kB');
    expect(humanBytes(9_949)).toBe('9.9 kB');
    // 20.5 kB rounds half to even under Go's %.0f (etcdctl printed "20 kB" for 20480 bytes).
    expect(humanBytes(20_480)).toBe('20 kB');
    expect(humanBytes(21_480)).toBe('22 kB');
    expect(humanBytes(2_500_000)).toBe('2.5 MB');
    expect(humanBytes(123_456_789)).toBe('124 MB');
    expect(humanBytes(122_456_789)).toBe('122 MB');
  });

  it("lays out etcdctl's formats", () => {
    const s = { hash: 3700637836, revision: 6, totalKey: 12, totalSize: 20480 };
    expect(formatStatus(s, 'simple')).toBe('dc93408c, 6, 12, 20 kB\n');
    expect(formatStatus(s, 'json')).toBe(
      '{"hash":3700637836,"revision":6,"totalKey":12,"totalSize":20480}\n',
    );
    expect(formatStatus(s, 'fields')).toBe(
      '"Hash" : 3700637836\n"Revision" : 6\n"Keys" : 12\n"Size" : 20480\n',
    );
    // Byte for byte what etcdctl 3.4 printed for a snapshot with these numbers.
    expect(formatStatus(s, 'table')).toBe(
      [
        '+----------+----------+------------+------------+',
        '|   HASH   | REVISION | TOTAL KEYS | TOTAL SIZE |',
        '+----------+----------+------------+------------+',
        '| dc93408c |        6 |         12 |      20 kB |',
        '+----------+----------+------------+------------+',
        '',
      ].join('\n'),
    );
  });
});
