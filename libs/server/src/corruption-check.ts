import { fromMvccError } from './etcd-errors';
import { Logger } from './logger';

/** The peer call that answers this member's HashKV at a revision (etcd's /members/hashkv). */
export const HASHKV_CALL = 'cairn.hashkv';

export interface KvHash {
  hash: number;
  /** The member's current revision when it hashed. */
  revision: number;
  compactRevision: number;
}

export interface CorruptionCheckDeps {
  memberId: bigint;
  /** HashKV of the local store at `rev` (0 = current). */
  hashKV(rev: number): Promise<KvHash>;
  /** The other members' ids. */
  peers(): bigint[];
  callPeer(id: bigint, method: string, payload: Uint8Array): Promise<Buffer>;
  isLeader(): boolean;
  /** Resolves once this member has applied what the cluster committed (a linearizable read). */
  readIndex(): Promise<void>;
  /** Raises the CORRUPT alarm for `memberId` through the log. */
  raiseCorrupt(memberId: bigint): Promise<void>;
  logger: Logger;
}

const hex = (id: bigint) => id.toString(16);

/**
 * etcd 3.4's corruption checks, over HashKV at one revision on every member:
 * --experimental-initial-corrupt-check compares this member's hash with its peers' before it
 * serves clients and refuses to start on a mismatch; --experimental-corrupt-check-time makes the
 * leader compare periodically and raise the CORRUPT alarm (through the log) for a member that
 * disagrees. Hashes are compared only where the compaction revisions agree, as etcd does.
 */
export class CorruptionChecker {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly deps: CorruptionCheckDeps) {}

  /** Peer.Call handler: this member's HashKV at the revision in `payload` (decimal). */
  async serve(payload: Buffer): Promise<Uint8Array> {
    try {
      return Buffer.from(JSON.stringify(await this.deps.hashKV(Number(payload.toString()))));
    } catch (err) {
      // A compacted or future revision goes back as etcd's error.
      throw fromMvccError(err);
    }
  }

  /** etcd's CheckInitialHashKV: throws when a peer's hash differs at this member's revision. */
  async checkInitial(): Promise<void> {
    const { memberId, logger } = this.deps;
    logger.info('starting initial corruption check', { 'local-member-id': hex(memberId) });
    const mine = await this.deps.hashKV(0);
    let mismatches = 0;
    for (const peer of await this.peerHashes(mine.revision)) {
      if (!peer.hash) continue;
      if (peer.hash.hash === mine.hash) continue;
      const fields = {
        'local-member-id': hex(memberId),
        'local-member-hash': mine.hash,
        'local-member-revision': mine.revision,
        'local-member-compact-revision': mine.compactRevision,
        'remote-peer-id': hex(peer.id),
        'remote-peer-hash': peer.hash.hash,
        'remote-peer-compact-revision': peer.hash.compactRevision,
      };
      if (peer.hash.compactRevision === mine.compactRevision) {
        logger.error('found different hash values from remote peer', fields);
        mismatches++;
      } else {
        logger.warn('found different compact revision values from remote peer', fields);
      }
    }
    if (mismatches > 0) throw new Error(`${hex(memberId)} found data inconsistency with peers`);
    logger.info('initial corruption checking passed; no corruption', { 'local-member-id': hex(memberId) });
  }

  /** Runs the leader's check every `intervalMs` until stopped. */
  start(intervalMs: number): void {
    this.deps.logger.info('enabled corruption checking', { interval: `${intervalMs}ms` });
    const next = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        const run = this.deps.isLeader() ? this.checkAsLeader() : Promise.resolve();
        run
          .catch((err) => this.deps.logger.warn('failed to check hash KV', { error: String(err) }))
          .finally(next);
      }, intervalMs);
      this.timer.unref();
    };
    next();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /**
   * etcd's checkHashKV on the leader: hash, ask the peers at that revision, hash again after a
   * read index. A member is corrupt if it is ahead of the leader (revision or compaction) or,
   * at the same compaction, hashes differently; the leader itself if its own two hashes of one
   * revision differ. One alarm per check.
   */
  async checkAsLeader(): Promise<void> {
    const { memberId, logger } = this.deps;
    const first = await this.deps.hashKV(0);
    const peers = await this.peerHashes(first.revision);
    await this.deps.readIndex();
    const second = await this.deps.hashKV(0);
    let alarmed = false;
    const mismatch = async (id: bigint, why: string) => {
      if (alarmed) return;
      alarmed = true;
      logger.error('detected data inconsistency; raising the CORRUPT alarm', {
        'local-member-id': hex(memberId),
        'corrupt-member-id': hex(id),
        reason: why,
      });
      await this.deps.raiseCorrupt(id);
    };
    if (
      first.hash !== second.hash &&
      first.revision === second.revision &&
      first.compactRevision === second.compactRevision
    ) {
      await mismatch(
        memberId,
        `hashes ${first.hash} and ${second.hash} differ for revision ${first.revision}`,
      );
    }
    for (const { id, hash } of peers) {
      if (!hash) continue;
      if (hash.revision > second.revision) await mismatch(id, 'its revision is ahead of the leader');
      if (hash.compactRevision > second.compactRevision)
        await mismatch(id, 'its compact revision is ahead of the leader');
      if (hash.compactRevision === first.compactRevision && hash.hash !== first.hash)
        await mismatch(id, `hash ${hash.hash} differs from ${first.hash} at revision ${first.revision}`);
    }
  }

  /** Every peer's HashKV at `revision`; a peer that cannot answer is logged and left out. */
  private async peerHashes(revision: number): Promise<{ id: bigint; hash?: KvHash }[]> {
    const payload = Buffer.from(String(revision));
    return Promise.all(
      this.deps.peers().map(async (id) => {
        try {
          return { id, hash: JSON.parse((await this.deps.callPeer(id, HASHKV_CALL, payload)).toString()) };
        } catch (err) {
          this.deps.logger.warn('cannot fetch hash from remote peer', {
            'remote-peer-id': hex(id),
            revision,
            error: err instanceof Error ? err.message : String(err),
          });
          return { id };
        }
      }),
    );
  }
}
