import { CallError, frame, unframe } from './conn';

describe('gRPC message framing', () => {
  it('round-trips a message split over chunks', () => {
    const msg = Buffer.from('hello etcd');
    const f = frame(msg);
    expect([...f.subarray(0, 5)]).toEqual([0, 0, 0, 0, 10]);
    expect(unframe([f.subarray(0, 3), f.subarray(3, 8), f.subarray(8)])).toEqual(msg);
    expect(unframe([frame(Buffer.alloc(0))])).toEqual(Buffer.alloc(0));
  });

  it('rejects short, truncated and compressed bodies', () => {
    expect(() => unframe([Buffer.from([0, 0])])).toThrow(CallError);
    expect(() => unframe([Buffer.from([0, 0, 0, 0, 9, 1])])).toThrow(/truncated/);
    expect(() => unframe([Buffer.from([1, 0, 0, 0, 0])])).toThrow(/compressed/);
  });

  it('names the status code in errors', () => {
    expect(new CallError(11, 'etcdserver: mvcc: required revision has been compacted').message).toBe(
      '11 OUT_OF_RANGE: etcdserver: mvcc: required revision has been compacted',
    );
  });
});
