/**
 * A Map kept in a plain object instead of a hash table, for tables whose entries come and go
 * all the time (a request per call, a stream per call) while the table itself lives long.
 *
 * Why: a Map or Set rebuilds its hash table every so often as entries are added and deleted,
 * and the table it replaces keeps a link to its successor (for iterators in progress). Once a
 * full collection has promoted the table in use, every later table stays reachable from its
 * old-space predecessor until the next full collection, and so does everything any of them
 * held: each young collection copies and promotes all of it. A script keeping ten short-lived
 * objects at a time in a Map, with a full collection every 0.7 s, promoted 3 to 5 MB per young
 * collection; the same churn on an array or a plain object promoted nothing (Node 20). An
 * object with deleted keys becomes a dictionary, a hash table without that link.
 *
 * Keys are property names: numbers (kept in rising order, which is insertion order when keys
 * rise) or strings that are not array indices (insertion order). `parseKey` turns a property
 * name back into a key when iterating. Implements the whole Map interface.
 */
export class KeyTable<K extends number | string, V> implements Map<K, V> {
  private table: Record<number | string, V> = Object.create(null) as Record<number | string, V>;
  private count = 0;

  constructor(private readonly parseKey: (name: string) => K) {}

  /** A table keyed by numbers. */
  static ofNumbers<V>(): KeyTable<number, V> {
    return new KeyTable<number, V>(Number);
  }

  /** A table keyed by strings. */
  static ofStrings<V>(): KeyTable<string, V> {
    return new KeyTable<string, V>(String);
  }

  get size(): number {
    return this.count;
  }

  get [Symbol.toStringTag](): string {
    return 'Map';
  }

  get(key: K): V | undefined {
    return this.table[key];
  }

  has(key: K): boolean {
    return key in this.table;
  }

  set(key: K, value: V): this {
    if (!(key in this.table)) this.count++;
    this.table[key] = value;
    return this;
  }

  delete(key: K): boolean {
    if (!(key in this.table)) return false;
    delete this.table[key];
    this.count--;
    return true;
  }

  clear(): void {
    this.table = Object.create(null) as Record<number | string, V>;
    this.count = 0;
  }

  forEach(callback: (value: V, key: K, map: Map<K, V>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.entries()) callback.call(thisArg, value, key, this);
  }

  /** A snapshot of the keys: entries deleted meanwhile are skipped, entries added are not visited. */
  *entries(): MapIterator<[K, V]> {
    const table = this.table;
    for (const name of Object.keys(table)) {
      if (name in this.table) yield [this.parseKey(name), table[name]];
    }
  }

  *keys(): MapIterator<K> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): MapIterator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }
}
