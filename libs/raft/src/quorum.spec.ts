import fc from 'fast-check';
import {
  MAX_INDEX,
  VoteResult,
  jointCommittedIndex,
  jointVoteResult,
  majorityCommittedIndex,
  majorityVoteResult,
} from './quorum';

const set = (...ids: number[]): Set<bigint> => new Set(ids.map(BigInt));
const acks = (m: Record<number, number>) => (id: bigint) =>
  m[Number(id)] !== undefined ? BigInt(m[Number(id)]) : undefined;
const votes = (m: Record<number, boolean>): Map<bigint, boolean> =>
  new Map(Object.entries(m).map(([k, v]) => [BigInt(k), v]));

describe('majority quorum', () => {
  it('computes the committed index', () => {
    expect(majorityCommittedIndex(set(), acks({}))).toBe(MAX_INDEX);
    expect(majorityCommittedIndex(set(1), acks({ 1: 5 }))).toBe(5n);
    expect(majorityCommittedIndex(set(1, 2, 3), acks({ 1: 5, 2: 3, 3: 9 }))).toBe(5n);
    expect(majorityCommittedIndex(set(1, 2, 3), acks({ 1: 5 }))).toBe(0n);
    expect(majorityCommittedIndex(set(1, 2, 3, 4), acks({ 1: 5, 2: 4, 3: 3, 4: 9 }))).toBe(4n);
    expect(majorityCommittedIndex(set(1, 2, 3, 4, 5), acks({ 1: 1, 2: 2, 3: 3, 4: 4, 5: 5 }))).toBe(3n);
  });

  it('agrees with a naive definition', () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.nat(20), { nil: undefined }), { minLength: 1, maxLength: 7 }),
        (idx) => {
          const voters = new Set(idx.map((_, i) => BigInt(i + 1)));
          const got = majorityCommittedIndex(voters, (id) =>
            idx[Number(id) - 1] === undefined ? undefined : BigInt(idx[Number(id) - 1]!),
          );
          // Naive: the largest c such that a majority acked >= c.
          let want = 0;
          for (let c = 0; c <= 20; c++) {
            const n = idx.filter((v) => (v ?? 0) >= c).length;
            if (n > idx.length / 2) want = c;
          }
          expect(got).toBe(BigInt(want));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('tallies votes', () => {
    expect(majorityVoteResult(set(), votes({}))).toBe(VoteResult.Won);
    expect(majorityVoteResult(set(1, 2, 3), votes({ 1: true }))).toBe(VoteResult.Pending);
    expect(majorityVoteResult(set(1, 2, 3), votes({ 1: true, 2: true }))).toBe(VoteResult.Won);
    expect(majorityVoteResult(set(1, 2, 3), votes({ 1: true, 2: false }))).toBe(VoteResult.Pending);
    expect(majorityVoteResult(set(1, 2, 3), votes({ 1: false, 2: false }))).toBe(VoteResult.Lost);
    expect(majorityVoteResult(set(1, 2, 3, 4), votes({ 1: true, 2: true }))).toBe(VoteResult.Pending);
    expect(majorityVoteResult(set(1, 2, 3, 4), votes({ 1: true, 2: true, 3: false, 4: false }))).toBe(
      VoteResult.Lost,
    );
    // Votes from non-members do not count.
    expect(majorityVoteResult(set(1, 2, 3), votes({ 7: true, 8: true, 1: true }))).toBe(VoteResult.Pending);
  });
});

describe('joint quorum', () => {
  it('needs both halves to commit', () => {
    const c = { incoming: set(1, 2, 3), outgoing: set(3, 4, 5) };
    expect(jointCommittedIndex(c, acks({ 1: 9, 2: 9, 3: 1, 4: 1, 5: 1 }))).toBe(1n);
    expect(jointCommittedIndex(c, acks({ 1: 9, 2: 9, 3: 5, 4: 5, 5: 1 }))).toBe(5n);
    expect(jointCommittedIndex({ incoming: set(1, 2, 3), outgoing: set() }, acks({ 1: 9, 2: 9 }))).toBe(9n);
  });

  it('needs both halves to win a vote', () => {
    const c = { incoming: set(1, 2, 3), outgoing: set(3, 4, 5) };
    expect(jointVoteResult(c, votes({ 1: true, 2: true }))).toBe(VoteResult.Pending);
    expect(jointVoteResult(c, votes({ 1: true, 2: true, 3: true }))).toBe(VoteResult.Pending);
    expect(jointVoteResult(c, votes({ 1: true, 3: true, 4: true }))).toBe(VoteResult.Won);
    expect(jointVoteResult(c, votes({ 1: true, 2: true, 4: false, 5: false }))).toBe(VoteResult.Lost);
  });
});
