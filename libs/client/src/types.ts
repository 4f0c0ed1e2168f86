// The SDK's view of etcd's messages: Buffers for bytes, bigint for 64-bit ids, numbers for revisions.

export type Bytes = string | Buffer;

export const toBuffer = (b: Bytes): Buffer => (typeof b === 'string' ? Buffer.from(b) : b);

/** The smallest key greater than every key starting with `prefix` ("\0" when there is none). */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

export interface ResponseHeader {
  clusterId: bigint;
  memberId: bigint;
  revision: number;
  raftTerm: bigint;
}

export class KeyValue {
  constructor(
    readonly key: Buffer,
    readonly value: Buffer,
    readonly createRevision: number,
    readonly modRevision: number,
    readonly version: number,
    readonly lease: bigint,
  ) {}

  get keyString(): string {
    return this.key.toString();
  }

  get valueString(): string {
    return this.value.toString();
  }
}

export function header(h: any): ResponseHeader {
  return {
    clusterId: BigInt(h?.cluster_id ?? 0),
    memberId: BigInt(h?.member_id ?? 0),
    revision: Number(h?.revision ?? 0),
    raftTerm: BigInt(h?.raft_term ?? 0),
  };
}

/** Adds and strips the client's key namespace. */
export class Namespace {
  readonly prefix: Buffer;
  constructor(prefix: Bytes = '') {
    this.prefix = toBuffer(prefix);
  }

  key(key: Bytes): Buffer {
    return this.prefix.length ? Buffer.concat([this.prefix, toBuffer(key)]) : toBuffer(key);
  }

  /** A range end: "\0" (every key from the start key on) stays inside the namespace. */
  rangeEnd(end: Bytes): Buffer {
    const b = toBuffer(end);
    if (!this.prefix.length) return b;
    if (b.length === 1 && b[0] === 0) return prefixEnd(this.prefix);
    return Buffer.concat([this.prefix, b]);
  }

  strip(key: Buffer): Buffer {
    return this.prefix.length ? key.subarray(this.prefix.length) : key;
  }

  kv(raw: any): KeyValue {
    return new KeyValue(
      this.strip(raw.key),
      raw.value,
      Number(raw.create_revision),
      Number(raw.mod_revision),
      Number(raw.version),
      BigInt(raw.lease),
    );
  }
}
