import { keyFor, keyIndex, makeValue } from './keys';

describe('keys', () => {
  it('pads the index to the key size', () => {
    expect(keyFor(42, 8).toString()).toBe('00000042');
    expect(keyFor(0, 1).toString()).toBe('0');
  });

  it('draws sequential or random indices inside the key space', () => {
    expect([0, 1, 9, 10, 11].map((s) => keyIndex(s, 10, true))).toEqual([0, 1, 9, 0, 1]);
    for (let i = 0; i < 1000; i++) {
      const k = keyIndex(i, 7, false);
      expect(Number.isInteger(k) && k >= 0 && k < 7).toBe(true);
    }
  });

  it('makes values of the requested size', () => {
    expect(makeValue(256)).toHaveLength(256);
    expect(makeValue(0)).toHaveLength(0);
  });
});
