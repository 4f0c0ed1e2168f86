import * as fc from 'fast-check';
import { KeyInterval, Permission, PermType, UserPermissions, permissionInterval } from './permissions';

const key = fc
  .array(fc.constantFrom(0x00, 0x61, 0x62, 0x63, 0xff), { minLength: 1, maxLength: 3 })
  .map((b) => Buffer.from(b));
const rangeEnd = fc.oneof(
  fc.constant(Buffer.alloc(0)), // the key alone
  fc.constant(Buffer.from([0])), // from the key on
  key,
);
const permission: fc.Arbitrary<Permission> = fc.record({
  permType: fc.constantFrom(PermType.READ, PermType.WRITE, PermType.READWRITE),
  key,
  rangeEnd,
});

const inInterval = (iv: KeyInterval, k: Buffer) =>
  Buffer.compare(iv.start, k) <= 0 && (iv.end === null || Buffer.compare(k, iv.end) < 0);

/**
 * The naive model: a range [s, e) is covered when no point of it is outside every interval. A
 * gap, if any, begins at s or at the end of some interval, so checking those points suffices.
 */
function naiveAllows(perms: Permission[], kind: 'read' | 'write', k: Buffer, end: Buffer): boolean {
  const wanted = kind === 'read' ? [PermType.READ, PermType.READWRITE] : [PermType.WRITE, PermType.READWRITE];
  const ivs = perms.filter((p) => wanted.includes(p.permType)).map(permissionInterval);
  const covered = (p: Buffer) => ivs.some((iv) => inInterval(iv, p));
  if (end.length === 0) return covered(k);
  const upper = end.length === 1 && end[0] === 0 ? null : end;
  if (upper !== null && Buffer.compare(k, upper) >= 0) return covered(k);
  const points = [k, ...ivs.map((iv) => iv.end).filter((p): p is Buffer => p !== null)];
  return points
    .filter((p) => Buffer.compare(p, k) >= 0 && (upper === null || Buffer.compare(p, upper) < 0))
    .every(covered);
}

describe('UserPermissions', () => {
  it('agrees with a naive interval-coverage model', () => {
    fc.assert(
      fc.property(
        fc.array(permission, { maxLength: 6 }),
        fc.constantFrom<'read' | 'write'>('read', 'write'),
        key,
        rangeEnd,
        (perms, kind, k, end) => {
          expect(new UserPermissions(perms).allows(kind, k, end)).toBe(naiveAllows(perms, kind, k, end));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('covers a range only with the union of touching intervals', () => {
    const b = (s: string) => Buffer.from(s);
    const perms = new UserPermissions([
      { permType: PermType.READ, key: b('a'), rangeEnd: b('c') },
      { permType: PermType.READWRITE, key: b('c'), rangeEnd: b('e') },
      { permType: PermType.WRITE, key: b('m'), rangeEnd: Buffer.from([0]) },
    ]);
    expect(perms.allows('read', b('a'), b('e'))).toBe(true);
    expect(perms.allows('read', b('a'), b('f'))).toBe(false);
    expect(perms.allows('write', b('a'), b('d'))).toBe(false);
    expect(perms.allows('write', b('c'), b('e'))).toBe(true);
    expect(perms.allows('write', b('n'), Buffer.from([0]))).toBe(true);
    expect(perms.allows('write', b('zzz'), undefined)).toBe(true);
    expect(perms.allows('read', b('zzz'), undefined)).toBe(false);
  });
});
