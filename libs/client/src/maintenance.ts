// Maintenance: status, hashes, alarms, defragment, leadership transfer and snapshots, per endpoint.
import * as grpc from '@grpc/grpc-js';
import { Readable } from 'node:stream';
import { Connection } from './connection';
import { fromServiceError } from './errors';
import { CallOptions } from './options';
import { ResponseHeader, header } from './types';

export interface MemberStatus {
  header: ResponseHeader;
  version: string;
  dbSize: number;
  leader: bigint;
  raftIndex: number;
  raftTerm: bigint;
  raftAppliedIndex: number;
  errors: string[];
  dbSizeInUse: number;
  isLearner: boolean;
}

export type AlarmType = 'NOSPACE' | 'CORRUPT';
export interface Alarm {
  memberId: bigint;
  alarm: AlarmType;
}

/** Maintenance calls go to one chosen endpoint (default: the first) since they describe one member. */
export class MaintenanceClient {
  constructor(private readonly conn: Connection) {}

  private call<T>(
    method: string,
    req: object,
    endpoint: string | undefined,
    opts: CallOptions = {},
  ): Promise<T> {
    const single = endpoint ? new Connection({ ...this.conn.options, endpoints: [endpoint] }) : undefined;
    const conn = single ?? this.conn;
    return conn.unary<T>('Maintenance', method, req, 'idempotent', opts).finally(() => single?.close());
  }

  async status(endpoint?: string, opts?: CallOptions): Promise<MemberStatus> {
    const r: any = await this.call('Status', {}, endpoint, opts);
    return {
      header: header(r.header),
      version: r.version,
      dbSize: Number(r.dbSize),
      leader: BigInt(r.leader),
      raftIndex: Number(r.raftIndex),
      raftTerm: BigInt(r.raftTerm),
      raftAppliedIndex: Number(r.raftAppliedIndex),
      errors: r.errors,
      dbSizeInUse: Number(r.dbSizeInUse),
      isLearner: r.isLearner,
    };
  }

  async hash(endpoint?: string, opts?: CallOptions): Promise<number> {
    return ((await this.call('Hash', {}, endpoint, opts)) as any).hash;
  }

  async hashKV(
    revision = 0,
    endpoint?: string,
    opts?: CallOptions,
  ): Promise<{ header: ResponseHeader; hash: number; compactRevision: number }> {
    const r: any = await this.call('HashKV', { revision: String(revision) }, endpoint, opts);
    return { header: header(r.header), hash: r.hash, compactRevision: Number(r.compact_revision) };
  }

  async alarms(opts?: CallOptions): Promise<Alarm[]> {
    const r: any = await this.call('Alarm', { action: 'GET', memberID: '0', alarm: 'NONE' }, undefined, opts);
    return r.alarms.map((a: any) => ({ memberId: BigInt(a.memberID), alarm: a.alarm }));
  }

  /** Disarms an alarm (every alarm of every member when no arguments are given). */
  async disarm(alarm?: Alarm, opts?: CallOptions): Promise<Alarm[]> {
    const req = {
      action: 'DEACTIVATE',
      memberID: String(alarm?.memberId ?? 0n),
      alarm: alarm?.alarm ?? 'NONE',
    };
    const r: any = await this.call('Alarm', req, undefined, opts);
    return r.alarms.map((a: any) => ({ memberId: BigInt(a.memberID), alarm: a.alarm }));
  }

  async defragment(endpoint?: string, opts?: CallOptions): Promise<void> {
    await this.call('Defragment', {}, endpoint, opts);
  }

  /** Transfers leadership; must be sent to the current leader's endpoint. */
  async moveLeader(targetId: bigint, endpoint?: string, opts?: CallOptions): Promise<void> {
    await this.call('MoveLeader', { targetID: String(targetId) }, endpoint, opts);
  }

  /** A stream of the member's database snapshot. */
  snapshot(endpoint?: string): Readable {
    const ep = endpoint ?? this.conn.endpoints[0];
    const out = new Readable({ read() {} });
    this.conn.metadata(ep).then(
      (md) => {
        const call = this.conn.client('Maintenance', ep).Snapshot({}, md) as grpc.ClientReadableStream<any>;
        call.on('data', (m) => out.push(m.blob));
        call.on('end', () => out.push(null));
        call.on('error', (e: grpc.ServiceError) => out.destroy(fromServiceError(e)));
      },
      (e) => out.destroy(e),
    );
    return out;
  }
}
