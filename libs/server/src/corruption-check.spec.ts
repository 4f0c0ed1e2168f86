import { CorruptionChecker, CorruptionCheckDeps, HASHKV_CALL, KvHash } from './corruption-check';
import { silentLogger } from './logger';

/** A leader (id 1) with peers 2 and 3 answering the given hashes (an Error: unreachable). */
function checker(local: KvHash[], peers: Record<string, KvHash | Error>) {
  const raised: bigint[] = [];
  const asked: string[] = [];
  let call = 0;
  const deps: CorruptionCheckDeps = {
    memberId: 1n,
    hashKV: async () => local[Math.min(call++, local.length - 1)],
    peers: () => Object.keys(peers).map(BigInt),
    callPeer: async (id, method, payload) => {
      asked.push(`${id} ${method} ${payload.toString()}`);
      const answer = peers[id.toString()];
      if (answer instanceof Error) throw answer;
      return Buffer.from(JSON.stringify(answer));
    },
    isLeader: () => true,
    readIndex: async () => undefined,
    raiseCorrupt: async (id) => void raised.push(id),
    logger: silentLogger,
  };
  return { check: new CorruptionChecker(deps), raised, asked };
}

const at = (hash: number, revision = 10, compactRevision = 0): KvHash => ({
  hash,
  revision,
  compactRevision,
});

describe('CorruptionChecker', () => {
  it('asks every peer at its own revision and passes when the hashes agree', async () => {
    // At start, a peer further on is fine: it hashes up to this member's revision.
    const starting = checker([at(7)], { 2: at(7), 3: at(7, 12) });
    await starting.check.checkInitial();
    expect(starting.asked).toEqual([`2 ${HASHKV_CALL} 10`, `3 ${HASHKV_CALL} 10`]);
    const { check, raised } = checker([at(7)], { 2: at(7), 3: at(7) });
    await check.checkAsLeader();
    expect(raised).toEqual([]);
  });

  it('refuses to start on a hash mismatch at the same compaction, not at a different one', async () => {
    await expect(checker([at(7)], { 2: at(7), 3: at(8) }).check.checkInitial()).rejects.toThrow(
      /^1 found data inconsistency with peers$/,
    );
    await checker([at(7, 10, 5)], { 2: at(8, 10, 6), 3: new Error('unreachable') }).check.checkInitial();
  });

  it("raises CORRUPT once per check for the first member that disagrees, as etcd's leader does", async () => {
    const mismatch = checker([at(7)], { 2: at(8), 3: at(9) });
    await mismatch.check.checkAsLeader();
    expect(mismatch.raised).toEqual([2n]);

    const ahead = checker([at(7)], { 2: at(7), 3: at(7, 11) });
    await ahead.check.checkAsLeader();
    expect(ahead.raised).toEqual([3n]);

    const compactedAhead = checker([at(7, 10, 2)], { 2: at(9, 10, 4), 3: at(7, 10, 2) });
    await compactedAhead.check.checkAsLeader();
    expect(compactedAhead.raised).toEqual([2n]);

    // The leader's own store changed under one revision: the leader is the corrupt one.
    const drift = checker([at(7), at(8)], { 2: new Error('unreachable'), 3: new Error('unreachable') });
    await drift.check.checkAsLeader();
    expect(drift.raised).toEqual([1n]);
  });

  it('leaves out a peer at an older compaction or one that cannot answer', async () => {
    const { check, raised } = checker([at(7, 10, 4)], { 2: at(8, 10, 2), 3: new Error('unreachable') });
    await check.checkAsLeader();
    expect(raised).toEqual([]);
  });
});
