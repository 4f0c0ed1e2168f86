import { Namespace, prefixEnd } from './types';

describe('prefixEnd', () => {
  it('increments the last byte below 0xff and drops trailing 0xff bytes', () => {
    expect(prefixEnd(Buffer.from('abc'))).toEqual(Buffer.from('abd'));
    expect(prefixEnd(Buffer.from([0x61, 0xff, 0xff]))).toEqual(Buffer.from([0x62]));
    expect(prefixEnd(Buffer.from([0xff]))).toEqual(Buffer.from([0]));
    expect(prefixEnd(Buffer.alloc(0))).toEqual(Buffer.from([0]));
  });
});

describe('Namespace', () => {
  const ns = new Namespace('app/');

  it('prefixes keys and strips them from results', () => {
    expect(ns.key('k')).toEqual(Buffer.from('app/k'));
    expect(ns.strip(Buffer.from('app/k'))).toEqual(Buffer.from('k'));
  });

  it('keeps the "every key from here" range end inside the namespace', () => {
    expect(ns.rangeEnd('\0')).toEqual(Buffer.from('app0'));
    expect(ns.rangeEnd('z')).toEqual(Buffer.from('app/z'));
    expect(new Namespace().rangeEnd('\0')).toEqual(Buffer.from([0]));
  });

  it('turns raw key-values into typed ones with bigint leases', () => {
    const kv = ns.kv({
      key: Buffer.from('app/x'),
      value: Buffer.from('v'),
      create_revision: '3',
      mod_revision: '4',
      version: '2',
      lease: '9223372036854775807',
    });
    expect(kv.keyString).toBe('x');
    expect(kv.lease).toBe(9223372036854775807n);
    expect([kv.createRevision, kv.modRevision, kv.version]).toEqual([3, 4, 2]);
  });
});
