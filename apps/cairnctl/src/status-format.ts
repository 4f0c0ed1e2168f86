import { SnapshotStatus } from '../../../libs/server/src';

export const OUTPUT_FORMATS = ['simple', 'table', 'json', 'fields'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** `snapshot status` in etcdctl's output formats, byte for byte. */
export function formatStatus(s: SnapshotStatus, format: OutputFormat): string {
  const hash = s.hash.toString(16);
  const size = humanBytes(s.totalSize);
  switch (format) {
    case 'simple':
      return `${hash}, ${s.revision}, ${s.totalKey}, ${size}\n`;
    case 'json':
      return JSON.stringify(s) + '\n';
    case 'fields':
      return `"Hash" : ${s.hash}\n"Revision" : ${s.revision}\n"Keys" : ${s.totalKey}\n"Size" : ${s.totalSize}\n`;
    case 'table':
      return table(['HASH', 'REVISION', 'TOTAL KEYS', 'TOTAL SIZE'], [hash, s.revision, s.totalKey, size]);
  }
}

/** go-humanize's Bytes (SI units), which etcdctl prints sizes with. */
export function humanBytes(n: number): string {
  if (n < 10) return `${n} B`;
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  const e = Math.floor(Math.log(n) / Math.log(1000));
  const tenths = Math.floor((n / 1000 ** e) * 10 + 0.5);
  if (tenths < 100) return `${(tenths / 10).toFixed(1)} ${units[e]}`;
  // Go's %.0f rounds a half to even.
  const whole = Math.floor(tenths / 10);
  const up = tenths % 10 > 5 || (tenths % 10 === 5 && whole % 2 === 1);
  return `${up ? whole + 1 : whole} ${units[e]}`;
}

/** etcdctl's tables (tablewriter): centred headers, right-aligned cells. */
function table(headers: string[], row: (string | number)[]): string {
  const cells = row.map(String);
  const widths = headers.map((h, i) => Math.max(h.length, cells[i].length));
  const line = '+' + widths.map((w) => '-'.repeat(w + 2)).join('+') + '+\n';
  const centre = (s: string, w: number) => {
    const left = Math.floor((w - s.length) / 2);
    return ' '.repeat(left) + s + ' '.repeat(w - s.length - left);
  };
  const head = '|' + headers.map((h, i) => ` ${centre(h, widths[i])} `).join('|') + '|\n';
  const body = '|' + cells.map((c, i) => ` ${c.padStart(widths[i])} `).join('|') + '|\n';
  return line + head + line + body + line;
}
