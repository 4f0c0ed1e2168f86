/**
 * Key-range permissions as etcd evaluates them: a user may touch a range only when the union of
 * its roles' permission intervals covers all of it (a single key: when some interval holds it).
 */

/** READ, WRITE, READWRITE: authpb.Permission.Type's numbers. */
export enum PermType {
  READ = 0,
  WRITE = 1,
  READWRITE = 2,
}

export interface Permission {
  permType: PermType;
  key: Buffer;
  /** Empty: the single key `key`; [0x00]: every key from `key` on; otherwise [key, rangeEnd). */
  rangeEnd: Buffer;
}

/** [start, end), end null = no upper bound. */
export interface KeyInterval {
  start: Buffer;
  end: Buffer | null;
}

const ZERO = Buffer.from([0]);
const isFromKey = (end: Buffer) => end.length === 1 && end[0] === 0;

/** The interval a permission grants. */
export function permissionInterval(p: Permission): KeyInterval {
  if (p.rangeEnd.length === 0) return { start: p.key, end: Buffer.concat([p.key, ZERO]) };
  return { start: p.key, end: isFromKey(p.rangeEnd) ? null : p.rangeEnd };
}

/** end a compared with end b, null being +infinity. */
function compareEnd(a: Buffer | null, b: Buffer | null): number {
  if (a === null) return b === null ? 0 : 1;
  if (b === null) return -1;
  return Buffer.compare(a, b);
}

/** Sorted, disjoint, non-adjacent intervals covering exactly the union of `intervals`. */
export function mergeIntervals(intervals: KeyInterval[]): KeyInterval[] {
  const sorted = intervals
    .filter((iv) => iv.end === null || Buffer.compare(iv.start, iv.end) < 0)
    .sort((a, b) => Buffer.compare(a.start, b.start));
  const out: KeyInterval[] = [];
  for (const iv of sorted) {
    const last = out[out.length - 1];
    // Touching intervals merge too: [a, b) and [b, c) cover [a, c).
    if (last && compareEnd(last.end, iv.start) >= 0) {
      if (compareEnd(iv.end, last.end) > 0) last.end = iv.end;
    } else {
      out.push({ start: iv.start, end: iv.end });
    }
  }
  return out;
}

/** What one user may read and write, merged over all its roles. */
export class UserPermissions {
  private readonly read: KeyInterval[];
  private readonly write: KeyInterval[];

  constructor(perms: Permission[]) {
    const read: KeyInterval[] = [];
    const write: KeyInterval[] = [];
    for (const p of perms) {
      const iv = permissionInterval(p);
      if (p.permType === PermType.READ || p.permType === PermType.READWRITE) read.push(iv);
      if (p.permType === PermType.WRITE || p.permType === PermType.READWRITE) write.push(iv);
    }
    this.read = mergeIntervals(read);
    this.write = mergeIntervals(write);
  }

  /**
   * Whether `kind` is allowed on the request range: rangeEnd empty = the key alone, [0x00] =
   * every key from `key` on, otherwise [key, rangeEnd).
   */
  allows(kind: 'read' | 'write', key: Buffer, rangeEnd: Buffer | undefined | null): boolean {
    const merged = kind === 'read' ? this.read : this.write;
    if (!rangeEnd || rangeEnd.length === 0) return merged.some((iv) => containsKey(iv, key));
    const end = isFromKey(rangeEnd) ? null : rangeEnd;
    // An inverted range selects no key; allow it where its start key is allowed.
    if (end !== null && Buffer.compare(key, end) >= 0) return merged.some((iv) => containsKey(iv, key));
    return merged.some((iv) => Buffer.compare(iv.start, key) <= 0 && compareEnd(iv.end, end) >= 0);
  }
}

function containsKey(iv: KeyInterval, key: Buffer): boolean {
  return Buffer.compare(iv.start, key) <= 0 && (iv.end === null || Buffer.compare(key, iv.end) < 0);
}
