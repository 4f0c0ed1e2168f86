import fc from 'fast-check';
import { KeyTable } from './key-table';

type Op = { kind: 'set'; id: number; value: string } | { kind: 'delete'; id: number } | { kind: 'clear' };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({ kind: fc.constant('set' as const), id: fc.nat(40), value: fc.string() }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('delete' as const), id: fc.nat(40) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('clear' as const) }) },
);

/** Everything a Map tells about itself. */
function view(m: Map<number, string>) {
  const seen: [number, string][] = [];
  m.forEach((v, k, self) => {
    expect(self).toBe(m);
    seen.push([k, v]);
  });
  return {
    size: m.size,
    entries: [...m],
    keys: [...m.keys()],
    values: [...m.values()],
    seen,
    has: Array.from({ length: 42 }, (_, i) => m.has(i)),
    get: Array.from({ length: 42 }, (_, i) => m.get(i)),
  };
}

describe('KeyTable', () => {
  it('with rising number keys, answers like a Map whatever is set, deleted or cleared', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const table = KeyTable.ofNumbers<string>();
        const map = new Map<number, string>();
        let next = 1;
        for (const o of ops) {
          if (o.kind === 'set') {
            // A new stream gets the next id; a set of a present id replaces its value.
            const id = map.has(o.id) ? o.id : next++;
            expect(table.set(id, o.value)).toBe(table);
            map.set(id, o.value);
          } else if (o.kind === 'delete') expect(table.delete(o.id)).toBe(map.delete(o.id));
          else {
            table.clear();
            map.clear();
          }
          expect(view(table)).toEqual(view(map));
        }
      }),
    );
  });

  it('iterates a snapshot: deleting during forEach skips what is gone, adding does not extend it', () => {
    const table = KeyTable.ofNumbers<string>();
    for (const id of [1, 3, 5, 7]) table.set(id, `s${id}`);
    const seen: number[] = [];
    table.forEach((_, id) => {
      seen.push(id);
      table.delete(id);
      if (id === 1) table.delete(5);
      table.set(100 + id, 'new');
    });
    expect(seen).toEqual([1, 3, 7]);
    expect([...table.keys()]).toEqual([101, 103, 107]);
    expect(Object.prototype.toString.call(table)).toBe('[object Map]');
  });

  it('with string keys (not array indices), answers like a Map in insertion order', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const table = KeyTable.ofStrings<string>();
        const map = new Map<string, string>();
        const key = (id: number) => `${1e19 + id * 1e6}`; // 20-digit decimal ids, as request ids
        for (const o of ops) {
          if (o.kind === 'set') {
            expect(table.set(key(o.id), o.value)).toBe(table);
            map.set(key(o.id), o.value);
          } else if (o.kind === 'delete') expect(table.delete(key(o.id))).toBe(map.delete(key(o.id)));
          else {
            table.clear();
            map.clear();
          }
          expect([...table]).toEqual([...map]);
          expect(table.size).toBe(map.size);
          for (let i = 0; i <= 40; i++) {
            expect(table.get(key(i))).toBe(map.get(key(i)));
            expect(table.has(key(i))).toBe(map.has(key(i)));
          }
        }
      }),
    );
  });
});
