import { formatGoDuration, parseGoBool, parseGoDuration, parseGoInt, parseGoUint } from './go-values';

describe('Go value syntax', () => {
  it('parses booleans like strconv.ParseBool', () => {
    for (const t of ['1', 't', 'T', 'TRUE', 'true', 'True']) expect(parseGoBool(t)).toBe(true);
    for (const f of ['0', 'f', 'F', 'FALSE', 'false', 'False']) expect(parseGoBool(f)).toBe(false);
    for (const bad of ['yes', 'on', 'tRUE', '']) expect(() => parseGoBool(bad)).toThrow('parse error');
  });

  it('parses unsigned integers with base prefixes and separators (base 0)', () => {
    expect(parseGoUint('100000', 64)).toBe(100000n);
    expect(parseGoUint('0x10', 64)).toBe(16n);
    expect(parseGoUint('010', 64)).toBe(8n);
    expect(parseGoUint('0b11', 64)).toBe(3n);
    expect(parseGoUint('0o17', 64)).toBe(15n);
    expect(parseGoUint('1_000', 64)).toBe(1000n);
    expect(parseGoUint('0', 64)).toBe(0n);
    for (const bad of ['', '-1', '1.5', 'abc', '08', '_1', '1__0', '1_', '0x']) {
      expect(() => parseGoUint(bad, 64)).toThrow('parse error');
    }
    expect(() => parseGoUint('4294967296', 32)).toThrow('value out of range');
    expect(() => parseGoUint('99999999999999999999999', 64)).toThrow('value out of range');
  });

  it('parses signed integers', () => {
    expect(parseGoInt('-5')).toBe(-5n);
    expect(parseGoInt('+0x10')).toBe(16n);
    expect(parseGoInt('-9223372036854775808')).toBe(-(2n ** 63n));
    expect(() => parseGoInt('9223372036854775808')).toThrow('value out of range');
    expect(() => parseGoInt('--5')).toThrow('parse error');
  });

  it('parses durations like time.ParseDuration, in milliseconds', () => {
    expect(parseGoDuration('5s')).toBe(5000);
    expect(parseGoDuration('2h')).toBe(7_200_000);
    expect(parseGoDuration('1h30m')).toBe(5_400_000);
    expect(parseGoDuration('1.5s')).toBe(1500);
    expect(parseGoDuration('.5s')).toBe(500);
    expect(parseGoDuration('100us')).toBeCloseTo(0.1);
    expect(parseGoDuration('0')).toBe(0);
    expect(parseGoDuration('-1s')).toBe(-1000);
    expect(() => parseGoDuration('5')).toThrow('time: missing unit in duration "5"');
    expect(() => parseGoDuration('1x')).toThrow('time: unknown unit "x" in duration "1x"');
    expect(() => parseGoDuration('abc')).toThrow('time: invalid duration "abc"');
    expect(() => parseGoDuration('')).toThrow('time: invalid duration ""');
    expect(() => parseGoDuration('.s')).toThrow('time: invalid duration ".s"');
  });

  it("formats durations as Go's Duration.String()", () => {
    expect(formatGoDuration(5000)).toBe('5s');
    expect(formatGoDuration(7_200_000)).toBe('2h0m0s');
    expect(formatGoDuration(600_000)).toBe('10m0s');
    expect(formatGoDuration(100)).toBe('100ms');
    expect(formatGoDuration(0)).toBe('0s');
  });
});
