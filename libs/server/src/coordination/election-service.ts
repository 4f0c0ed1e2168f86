import type { AuthInfo } from '../../../auth/src';
import { EventType } from '../../../storage/src';
import { keyValue } from '../convert';
import { EtcdError, GrpcCode } from '../etcd-errors';
import type * as pb from '../etcd-types';
import { prefixEnd, watchUntil } from './key-waits';
import {
  CoordinationMember,
  QueueEntry,
  createRevisionIs,
  firstCreated,
  sessionLease,
  waitPredecessors,
} from './queue';

export interface LeaderKey {
  name?: Buffer;
  key?: Buffer;
  rev?: string;
  lease?: string;
}

export interface LeaderResponse {
  header: pb.ResponseHeader;
  kv: pb.KeyValue;
}

// etcd answers these as plain errors (gRPC code Unknown): clients match the text.
const notLeader = () => new EtcdError(GrpcCode.UNKNOWN, 'election: not leader');
const noLeader = () => new EtcdError(GrpcCode.UNKNOWN, 'election: no leader');
const missingLeaderKey = () => new EtcdError(GrpcCode.UNKNOWN, '"leader" field must be provided');

/**
 * v3electionpb.Election as etcd 3.4 serves it: the leader is the oldest key under `name/`,
 * each candidate's key is `name/<lease hex>` holding its proclaimed value.
 */
export class ElectionService {
  constructor(private readonly member: CoordinationMember) {}

  async campaign(
    req: { name?: Buffer; lease?: string; value?: Buffer },
    signal: AbortSignal,
    auth?: AuthInfo,
  ): Promise<{ header: pb.ResponseHeader; leader: LeaderKey }> {
    const name = req.name ?? Buffer.alloc(0);
    const value = req.value ?? Buffer.alloc(0);
    const lease = await sessionLease(this.member, req.lease);
    const entry = new QueueEntry(name, lease);
    const res = await this.member.txn(
      {
        compare: [createRevisionIs(entry.key, 0)],
        success: [{ request_put: { key: entry.key, value, lease: lease.toString() } }],
        failure: [{ request_range: { key: entry.key } }],
      },
      auth,
    );
    const header = res.header as pb.ResponseHeader;
    let rev = Number(header.revision);
    const leader = (): LeaderKey => ({ name, key: entry.key, rev: String(rev), lease: lease.toString() });
    if (!res.succeeded) {
      // Already a candidate under this lease (a retried Campaign): keep the place, update the value.
      const kv = res.responses[0].response_range?.kvs[0] as pb.KeyValue;
      rev = Number(kv.create_revision);
      if (!kv.value.equals(value)) {
        try {
          await this.proclaim({ leader: leader(), value }, auth);
        } catch (err) {
          await this.resign({ leader: leader() }, auth).catch(() => undefined);
          throw err;
        }
      }
    }
    try {
      await waitPredecessors(this.member, entry, rev - 1, Number(header.revision), signal, auth);
    } catch (err) {
      // A client that gave up withdraws its candidacy, as etcd does.
      if (signal.aborted) await this.resign({ leader: leader() }, auth).catch(() => undefined);
      throw err;
    }
    return { header, leader: leader() };
  }

  async proclaim(
    req: { leader?: LeaderKey | null; value?: Buffer },
    auth?: AuthInfo,
  ): Promise<{ header: pb.ResponseHeader }> {
    const leader = req.leader;
    if (!leader) throw missingLeaderKey();
    const key = leader.key ?? Buffer.alloc(0);
    const res = await this.member.txn(
      {
        compare: [createRevisionIs(key, leader.rev ?? 0)],
        success: [{ request_put: { key, value: req.value ?? Buffer.alloc(0), lease: leader.lease ?? '0' } }],
      },
      auth,
    );
    if (!res.succeeded) throw notLeader();
    return { header: res.header as pb.ResponseHeader };
  }

  async resign(req: { leader?: LeaderKey | null }, auth?: AuthInfo): Promise<{ header: pb.ResponseHeader }> {
    const leader = req.leader;
    if (!leader) throw missingLeaderKey();
    const key = leader.key ?? Buffer.alloc(0);
    // Resigning when no longer the leader is not an error: there is nothing to give up.
    const res = await this.member.txn(
      { compare: [createRevisionIs(key, leader.rev ?? 0)], success: [{ request_delete_range: { key } }] },
      auth,
    );
    return { header: res.header as pb.ResponseHeader };
  }

  async leader(req: { name?: Buffer }, auth?: AuthInfo): Promise<LeaderResponse> {
    const prefix = new QueueEntry(req.name ?? Buffer.alloc(0), 0n).prefix;
    const res = await this.member.range(firstCreated(prefix), auth);
    if (res.kvs.length === 0) throw noLeader();
    return { header: res.header as pb.ResponseHeader, kv: res.kvs[0] };
  }

  /**
   * Sends the current leader, then every change of it: its proclaimed values, and the next
   * leader once it goes. Runs until `signal` aborts (then rejects with "context canceled").
   */
  async observe(
    req: { name?: Buffer },
    send: (res: LeaderResponse) => void,
    signal: AbortSignal,
    auth?: AuthInfo,
  ): Promise<never> {
    const prefix = new QueueEntry(req.name ?? Buffer.alloc(0), 0n).prefix;
    const hub = this.member.watchHub;
    for (;;) {
      const res = await this.member.range(firstCreated(prefix), auth);
      let current: LeaderResponse;
      if (res.kvs.length > 0) {
        current = { header: res.header as pb.ResponseHeader, kv: res.kvs[0] };
      } else {
        // No leader yet: the first key put under the prefix is the next one.
        current = await watchUntil(
          hub,
          { key: prefix, rangeEnd: prefixEnd(prefix) },
          Number(res.header?.revision),
          signal,
          (events) => {
            const put = events.find((ev) => ev.type === EventType.PUT);
            if (!put) return undefined;
            return { header: this.member.header(put.kv.modRevision), kv: keyValue(put.kv) };
          },
        );
      }
      send(current);
      // Follow the leader's key: each put is a proclamation, its deletion hands over.
      await watchUntil(
        hub,
        { key: current.kv.key },
        Number(current.header.revision) + 1,
        signal,
        (events, revision) => {
          for (const ev of events) {
            if (ev.type === EventType.DELETE) return true;
            send({ header: this.member.header(revision), kv: keyValue(ev.kv) });
          }
          return undefined;
        },
      );
    }
  }
}
