// Cluster membership.
import { Connection } from './connection';
import { CallOptions } from './options';
import { ResponseHeader, header } from './types';

export interface Member {
  id: bigint;
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

const member = (m: any): Member => ({
  id: BigInt(m.ID),
  name: m.name,
  peerUrls: m.peerURLs,
  clientUrls: m.clientURLs,
  isLearner: m.isLearner,
});

export class ClusterClient {
  constructor(private readonly conn: Connection) {}

  async members(opts?: CallOptions): Promise<{ header: ResponseHeader; members: Member[] }> {
    const r: any = await this.conn.unary('Cluster', 'MemberList', {}, 'idempotent', opts);
    return { header: header(r.header), members: r.members.map(member) };
  }

  async add(
    peerUrls: string[],
    options: { learner?: boolean } & CallOptions = {},
  ): Promise<{ member: Member; members: Member[] }> {
    const r: any = await this.conn.unary(
      'Cluster',
      'MemberAdd',
      { peerURLs: peerUrls, isLearner: !!options.learner },
      'mutating',
      options,
    );
    return { member: member(r.member), members: r.members.map(member) };
  }

  async remove(id: bigint, opts?: CallOptions): Promise<Member[]> {
    const r: any = await this.conn.unary('Cluster', 'MemberRemove', { ID: String(id) }, 'mutating', opts);
    return r.members.map(member);
  }

  async update(id: bigint, peerUrls: string[], opts?: CallOptions): Promise<Member[]> {
    const r: any = await this.conn.unary(
      'Cluster',
      'MemberUpdate',
      { ID: String(id), peerURLs: peerUrls },
      'mutating',
      opts,
    );
    return r.members.map(member);
  }

  async promote(id: bigint, opts?: CallOptions): Promise<Member[]> {
    const r: any = await this.conn.unary('Cluster', 'MemberPromote', { ID: String(id) }, 'mutating', opts);
    return r.members.map(member);
  }
}
