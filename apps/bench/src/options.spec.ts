import { DEFAULTS, parseBenchArgs } from './options';

describe('parseBenchArgs', () => {
  it('applies the defaults', () => {
    const o = parseBenchArgs(['put']);
    expect(o).toEqual({ ...DEFAULTS, workload: 'put' });
    expect(o.endpoints).toEqual(['127.0.0.1:2379']);
    expect(o.clients).toBe(200);
    expect(o.conns).toBe(20);
    expect(o.total).toBe(100000);
    expect(o.consistency).toBe('l');
  });

  it('reads every option', () => {
    const o = parseBenchArgs(
      // prettier-ignore
      ['range', '--endpoints', 'http://10.0.0.1:2379, 127.0.0.1:3379', '--clients', '50', '--conns', '5',
       '--workers', '2', '--duration', '3', '--key-size', '16', '--val-size', '0', '--key-space-size', '100',
       '--sequential-keys', '--consistency', 's', '--read-ratio', '0.5', '--txn-ops', '3', '--no-prefill',
       '--json', '--transport', 'grpc-js'],
    );
    expect(o).toMatchObject({
      workload: 'range',
      endpoints: ['10.0.0.1:2379', '127.0.0.1:3379'],
      clients: 50,
      conns: 5,
      workers: 2,
      duration: 3,
      keySize: 16,
      valSize: 0,
      keySpaceSize: 100,
      sequentialKeys: true,
      consistency: 's',
      readRatio: 0.5,
      txnOps: 3,
      prefill: false,
      json: true,
      transport: 'grpc-js',
    });
  });

  it('caps connections at the number of clients', () => {
    expect(parseBenchArgs(['put', '--clients', '4']).conns).toBe(4);
  });

  it.each([
    [['nope'], /Invalid values/],
    [['put', '--clients', '0'], /--clients must be a positive integer/],
    [['put', '--total', '0'], /--total must be a positive integer/],
    [['put', '--read-ratio', '1.5'], /--read-ratio/],
    [['put', '--key-size', '3'], /--key-size 3 is too small for --key-space-size 10000/],
    [['put', '--workers', '3', '--clients', '2'], /--workers cannot exceed --clients/],
    [['range', '--consistency', 'x'], /Invalid values/],
    [['put', '--bogus'], /Unknown argument/],
  ])('rejects %j', (args, message) => {
    expect(() => parseBenchArgs(args as string[])).toThrow(message);
  });

  it('accepts --total 0 when a duration is given', () => {
    expect(parseBenchArgs(['put', '--total', '0', '--duration', '2']).duration).toBe(2);
  });
});
