import { createHash } from 'node:crypto';
import { Engine, EngineOp, metaKey } from '../../storage/src';

/**
 * Member and cluster ids, derived as etcd derives them so that a member started with the
 * same flags gets the same ids on every machine: a member id is the first 8 bytes (big
 * endian) of sha1(sorted peer URLs joined, then the cluster token); the cluster id is the
 * same over the sorted member ids' 8-byte big-endian encodings.
 */
export function computeMemberId(peerUrls: string[], clusterToken: string): bigint {
  const joined = [...peerUrls].sort().join('') + clusterToken;
  return createHash('sha1').update(joined).digest().readBigUInt64BE(0);
}

export function computeClusterId(memberIds: bigint[]): bigint {
  const sorted = [...memberIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const buf = Buffer.alloc(8 * sorted.length);
  sorted.forEach((id, i) => buf.writeBigUInt64BE(id, 8 * i));
  return createHash('sha1').update(buf).digest().readBigUInt64BE(0);
}

export interface Identity {
  memberId: bigint;
  clusterId: bigint;
}

const IDENTITY_KEY = metaKey('identity');

/** The identity recorded in the data directory, if the member has started here before. */
export function loadIdentity(engine: Engine): Identity | undefined {
  const raw = engine.get(IDENTITY_KEY);
  if (!raw) return undefined;
  return { memberId: raw.readBigUInt64BE(0), clusterId: raw.readBigUInt64BE(8) };
}

export async function saveIdentity(
  engine: Engine,
  id: Identity,
  attributes?: MemberAttributes,
): Promise<void> {
  const buf = Buffer.alloc(16);
  buf.writeBigUInt64BE(id.memberId, 0);
  buf.writeBigUInt64BE(id.clusterId, 8);
  const ops: EngineOp[] = [{ type: 'put', key: IDENTITY_KEY, value: buf }];
  if (attributes) ops.push(attributesOp(attributes));
  await engine.writeSynced(ops);
}

/**
 * What MemberList reports about this member. The peer URLs are fixed when the member
 * bootstraps (etcd's raft attributes: later --initial-* flags are ignored); the name and client
 * URLs are published anew from the flags at every start, as etcd publishes them.
 */
export interface MemberAttributes {
  name: string;
  peerUrls: string[];
  clientUrls: string[];
}

const ATTRIBUTES_KEY = metaKey('member-attributes');

/** Records that belong to this member alone: never in a snapshot's image, kept when one is installed. */
export const MEMBER_LOCAL_KEYS: readonly Buffer[] = [IDENTITY_KEY, ATTRIBUTES_KEY];

export function loadAttributes(engine: Engine): MemberAttributes | undefined {
  const raw = engine.get(ATTRIBUTES_KEY);
  return raw ? (JSON.parse(raw.toString('utf8')) as MemberAttributes) : undefined;
}

export async function saveAttributes(engine: Engine, attributes: MemberAttributes): Promise<void> {
  await engine.writeSynced([attributesOp(attributes)]);
}

function attributesOp(attributes: MemberAttributes): EngineOp {
  const { name, peerUrls, clientUrls } = attributes;
  return {
    type: 'put',
    key: ATTRIBUTES_KEY,
    value: Buffer.from(JSON.stringify({ name, peerUrls, clientUrls })),
  };
}
