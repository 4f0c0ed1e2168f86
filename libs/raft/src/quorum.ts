// Quorum arithmetic for majority and joint (two-majority) configurations.

export enum VoteResult {
  /** Not decided yet: missing votes could still go either way. */
  Pending = 1,
  Lost = 2,
  Won = 3,
}

/** Sentinel "infinitely committed" index returned by an empty configuration. */
export const MAX_INDEX = (1n << 64n) - 1n;

/** Looks up the acknowledged index of a voter (undefined if unknown). */
export type AckedIndexer = (id: bigint) => bigint | undefined;

export function sortedIds(ids: Iterable<bigint>): bigint[] {
  return [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The highest index acknowledged by a majority of `voters`. An empty config
 * returns MAX_INDEX so that it never restricts a joint configuration.
 */
export function majorityCommittedIndex(voters: ReadonlySet<bigint>, acked: AckedIndexer): bigint {
  const n = voters.size;
  if (n === 0) return MAX_INDEX;
  const idx: bigint[] = new Array<bigint>(n);
  let i = 0;
  for (const id of voters) idx[i++] = acked(id) ?? 0n;
  // Insertion sort, descending: configurations are small.
  for (let a = 1; a < n; a++) {
    const v = idx[a];
    let b = a - 1;
    while (b >= 0 && idx[b] < v) {
      idx[b + 1] = idx[b];
      b--;
    }
    idx[b + 1] = v;
  }
  // The (n/2+1)-th largest acked index is on a majority.
  return idx[n >> 1];
}

export function majorityVoteResult(
  voters: ReadonlySet<bigint>,
  votes: ReadonlyMap<bigint, boolean>,
): VoteResult {
  // An empty config wins every vote, for the same reason as above.
  if (voters.size === 0) return VoteResult.Won;
  let yes = 0;
  let missing = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) yes++;
  }
  const q = (voters.size >> 1) + 1;
  if (yes >= q) return VoteResult.Won;
  if (yes + missing >= q) return VoteResult.Pending;
  return VoteResult.Lost;
}

/** A configuration that needs a majority in both halves (the outgoing one may be empty). */
export interface JointConfig {
  incoming: Set<bigint>;
  outgoing: Set<bigint>;
}

export function jointCommittedIndex(c: JointConfig, acked: AckedIndexer): bigint {
  const a = majorityCommittedIndex(c.incoming, acked);
  const b = majorityCommittedIndex(c.outgoing, acked);
  return a < b ? a : b;
}

export function jointVoteResult(c: JointConfig, votes: ReadonlyMap<bigint, boolean>): VoteResult {
  const r1 = majorityVoteResult(c.incoming, votes);
  const r2 = majorityVoteResult(c.outgoing, votes);
  if (r1 === r2) return r1;
  if (r1 === VoteResult.Lost || r2 === VoteResult.Lost) return VoteResult.Lost;
  return VoteResult.Pending;
}

export function jointIds(c: JointConfig): Set<bigint> {
  const s = new Set<bigint>(c.incoming);
  for (const id of c.outgoing) s.add(id);
  return s;
}
