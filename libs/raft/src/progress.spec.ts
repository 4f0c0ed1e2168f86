import { Inflights } from './inflights';
import { Progress, ProgressState } from './progress';

function progress(state: ProgressState, match: bigint, next: bigint, inflight = 10): Progress {
  const p = new Progress(new Inflights(inflight));
  p.state = state;
  p.match = match;
  p.next = next;
  return p;
}

describe('Inflights', () => {
  it('fills up by count and frees acknowledged messages', () => {
    const inf = new Inflights(4);
    for (const i of [1n, 2n, 3n, 4n]) inf.add(i, 10);
    expect(inf.full()).toBe(true);
    expect(() => inf.add(5n, 1)).toThrow();
    inf.freeLE(2n);
    expect(inf.size()).toBe(2);
    expect(inf.full()).toBe(false);
    inf.add(5n, 10);
    inf.add(6n, 10); // wraps around the ring
    expect(inf.full()).toBe(true);
    inf.freeLE(1n); // already freed: no-op
    expect(inf.size()).toBe(4);
    inf.freeLE(5n);
    expect(inf.size()).toBe(1);
    inf.freeFirstOne();
    expect(inf.size()).toBe(0);
    expect(inf.totalBytes()).toBe(0);
  });

  it('also fills up by bytes', () => {
    const inf = new Inflights(100, 25);
    inf.add(1n, 10);
    inf.add(2n, 10);
    expect(inf.full()).toBe(false);
    inf.add(3n, 10);
    expect(inf.full()).toBe(true);
    inf.freeLE(1n);
    expect(inf.totalBytes()).toBe(20);
    expect(inf.full()).toBe(false);
  });
});

describe('Progress', () => {
  it('moves next optimistically in Replicate and records inflights', () => {
    const p = progress(ProgressState.Replicate, 5n, 6n, 2);
    p.sentEntries(3, 30);
    expect(p.next).toBe(9n);
    p.sentEntries(1, 10);
    expect(p.next).toBe(10n);
    expect(p.isPaused()).toBe(true);
    expect(p.maybeUpdate(8n)).toBe(true);
    p.inflights.freeLE(8n);
    expect(p.isPaused()).toBe(false);
  });

  it('pauses after one probe until an answer', () => {
    const p = progress(ProgressState.Probe, 0n, 5n);
    expect(p.isPaused()).toBe(false);
    p.sentEntries(1, 10);
    expect(p.isPaused()).toBe(true);
    expect(p.next).toBe(5n);
    expect(p.maybeUpdate(5n)).toBe(true);
    expect(p.isPaused()).toBe(false);
  });

  it('ignores stale updates but still raises next', () => {
    const p = progress(ProgressState.Probe, 5n, 6n);
    expect(p.maybeUpdate(4n)).toBe(false);
    expect(p.maybeUpdate(5n)).toBe(false);
    expect(p.maybeUpdate(7n)).toBe(true);
    expect([p.match, p.next]).toEqual([7n, 8n]);
  });

  it('decreases next on rejections, ignoring stale ones', () => {
    // Replicate: a rejection at or below match is stale; otherwise back to match+1.
    const r = progress(ProgressState.Replicate, 5n, 10n);
    expect(r.maybeDecrTo(5n, 5n)).toBe(false);
    expect(r.maybeDecrTo(9n, 9n)).toBe(true);
    expect(r.next).toBe(6n);
    // Probe: only the rejection of the last probe (next-1) counts.
    const p = progress(ProgressState.Probe, 0n, 10n);
    expect(p.maybeDecrTo(8n, 8n)).toBe(false);
    expect(p.maybeDecrTo(9n, 3n)).toBe(true);
    expect(p.next).toBe(4n);
    // The hint never pushes next below match+1.
    const q = progress(ProgressState.Probe, 3n, 10n);
    expect(q.maybeDecrTo(9n, 0n)).toBe(true);
    expect(q.next).toBe(4n);
  });

  it('switches states and resets flow control', () => {
    const p = progress(ProgressState.Replicate, 5n, 9n);
    p.sentEntries(2, 2);
    p.becomeProbe();
    expect([p.state, p.next, p.inflights.size()]).toEqual([ProgressState.Probe, 6n, 0]);
    p.becomeSnapshot(20n);
    expect([p.state, p.pendingSnapshot, p.isPaused()]).toEqual([ProgressState.Snapshot, 20n, true]);
    // Leaving Snapshot resumes after the snapshot, unless match is further.
    p.becomeProbe();
    expect([p.state, p.next, p.pendingSnapshot]).toEqual([ProgressState.Probe, 21n, 0n]);
    p.becomeReplicate();
    expect([p.state, p.next]).toEqual([ProgressState.Replicate, 6n]);
  });
});
