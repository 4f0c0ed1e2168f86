// KV: get/range, put, delete, a fluent txn builder and compact.
import { Connection } from './connection';
import { CallOptions } from './options';
import { Bytes, KeyValue, Namespace, ResponseHeader, header, prefixEnd, toBuffer } from './types';

export type SortTarget = 'KEY' | 'VERSION' | 'CREATE' | 'MOD' | 'VALUE';
export type SortOrder = 'NONE' | 'ASCEND' | 'DESCEND';

export interface RangeOptions {
  /** Every key that starts with `key`. */
  prefix?: boolean;
  /** Every key in [key, rangeEnd); "\0" means every key >= key. */
  rangeEnd?: Bytes;
  limit?: number;
  /** Read at this revision (0: the latest). */
  revision?: number;
  sort?: { target?: SortTarget; order?: SortOrder };
  keysOnly?: boolean;
  countOnly?: boolean;
  /** Read the local state of the member the call lands on (may be stale). */
  serializable?: boolean;
  minModRevision?: number;
  maxModRevision?: number;
  minCreateRevision?: number;
  maxCreateRevision?: number;
}

export interface RangeResult {
  header: ResponseHeader;
  kvs: KeyValue[];
  more: boolean;
  count: number;
}

export interface PutOptions {
  lease?: bigint;
  prevKv?: boolean;
  /** Keep the current value (the key must exist). */
  ignoreValue?: boolean;
  /** Keep the current lease (the key must exist). */
  ignoreLease?: boolean;
}

export interface PutResult {
  header: ResponseHeader;
  prevKv?: KeyValue;
}

export interface DeleteOptions {
  prefix?: boolean;
  rangeEnd?: Bytes;
  prevKv?: boolean;
}

export interface DeleteResult {
  header: ResponseHeader;
  deleted: number;
  prevKvs: KeyValue[];
}

/** One operation of a txn (see `op`). */
export type Op =
  | { type: 'range'; key: Bytes; options: RangeOptions }
  | { type: 'put'; key: Bytes; value: Bytes; options: PutOptions }
  | { type: 'delete'; key: Bytes; options: DeleteOptions }
  | { type: 'txn'; compares: Compare[]; success: Op[]; failure: Op[] };

export const op = {
  get: (key: Bytes, options: RangeOptions = {}): Op => ({ type: 'range', key, options }),
  put: (key: Bytes, value: Bytes, options: PutOptions = {}): Op => ({ type: 'put', key, value, options }),
  delete: (key: Bytes, options: DeleteOptions = {}): Op => ({ type: 'delete', key, options }),
  txn: (compares: Compare[], success: Op[], failure: Op[] = []): Op => ({
    type: 'txn',
    compares,
    success,
    failure,
  }),
};

export type CompareOp = '==' | '!=' | '<' | '>';
export type CompareTarget = 'value' | 'version' | 'create' | 'mod' | 'lease';
export interface Compare {
  key: Bytes;
  target: CompareTarget;
  op: CompareOp;
  operand: Bytes | number | bigint;
  /** Compare every key of [key, rangeEnd) (or of the prefix). */
  rangeEnd?: Bytes;
  prefix?: boolean;
}

/** Txn conditions: `cmp.mod('k', '==', 5)`, `cmp.value('k', '!=', 'x')`, `cmp.create('k', '==', 0)` (absent). */
export const cmp = {
  value: (key: Bytes, o: CompareOp, value: Bytes): Compare => ({
    key,
    target: 'value',
    op: o,
    operand: value,
  }),
  version: (key: Bytes, o: CompareOp, v: number): Compare => ({ key, target: 'version', op: o, operand: v }),
  create: (key: Bytes, o: CompareOp, rev: number): Compare => ({
    key,
    target: 'create',
    op: o,
    operand: rev,
  }),
  mod: (key: Bytes, o: CompareOp, rev: number): Compare => ({ key, target: 'mod', op: o, operand: rev }),
  lease: (key: Bytes, o: CompareOp, id: bigint): Compare => ({ key, target: 'lease', op: o, operand: id }),
};

export type OpResult =
  | { type: 'range'; result: RangeResult }
  | { type: 'put'; result: PutResult }
  | { type: 'delete'; result: DeleteResult }
  | { type: 'txn'; result: TxnResult };

export interface TxnResult {
  header: ResponseHeader;
  succeeded: boolean;
  results: OpResult[];
}

const compareResult: Record<CompareOp, string> = {
  '==': 'EQUAL',
  '!=': 'NOT_EQUAL',
  '<': 'LESS',
  '>': 'GREATER',
};
const compareTarget: Record<CompareTarget, [string, string]> = {
  value: ['VALUE', 'value'],
  version: ['VERSION', 'version'],
  create: ['CREATE', 'create_revision'],
  mod: ['MOD', 'mod_revision'],
  lease: ['LEASE', 'lease'],
};

/** Turns SDK shapes into etcd requests and etcd responses into SDK shapes, inside a namespace. */
export class KvCodec {
  constructor(readonly ns: Namespace) {}

  private range(key: Bytes, o: { prefix?: boolean; rangeEnd?: Bytes }): { key: Buffer; range_end?: Buffer } {
    const k = this.ns.key(key);
    if (o.prefix) return { key: k, range_end: prefixEnd(k) };
    if (o.rangeEnd !== undefined) return { key: k, range_end: this.ns.rangeEnd(o.rangeEnd) };
    return { key: k };
  }

  rangeRequest(key: Bytes, o: RangeOptions): object {
    return {
      ...this.range(key, o),
      limit: String(o.limit ?? 0),
      revision: String(o.revision ?? 0),
      sort_order: o.sort?.order ?? (o.sort ? 'ASCEND' : 'NONE'),
      sort_target: o.sort?.target ?? 'KEY',
      serializable: !!o.serializable,
      keys_only: !!o.keysOnly,
      count_only: !!o.countOnly,
      min_mod_revision: String(o.minModRevision ?? 0),
      max_mod_revision: String(o.maxModRevision ?? 0),
      min_create_revision: String(o.minCreateRevision ?? 0),
      max_create_revision: String(o.maxCreateRevision ?? 0),
    };
  }

  putRequest(key: Bytes, value: Bytes, o: PutOptions): object {
    return {
      key: this.ns.key(key),
      value: toBuffer(value),
      lease: String(o.lease ?? 0n),
      prev_kv: !!o.prevKv,
      ignore_value: !!o.ignoreValue,
      ignore_lease: !!o.ignoreLease,
    };
  }

  deleteRequest(key: Bytes, o: DeleteOptions): object {
    return { ...this.range(key, o), prev_kv: !!o.prevKv };
  }

  compare(c: Compare): object {
    const [target, field] = compareTarget[c.target];
    const operand = c.target === 'value' ? toBuffer(c.operand as Bytes) : String(c.operand);
    return { ...this.range(c.key, c), result: compareResult[c.op], target, [field]: operand };
  }

  txnRequest(compares: Compare[], success: Op[], failure: Op[]): object {
    return {
      compare: compares.map((c) => this.compare(c)),
      success: success.map((o) => this.requestOp(o)),
      failure: failure.map((o) => this.requestOp(o)),
    };
  }

  requestOp(o: Op): object {
    switch (o.type) {
      case 'range':
        return { request_range: this.rangeRequest(o.key, o.options) };
      case 'put':
        return { request_put: this.putRequest(o.key, o.value, o.options) };
      case 'delete':
        return { request_delete_range: this.deleteRequest(o.key, o.options) };
      case 'txn':
        return { request_txn: this.txnRequest(o.compares, o.success, o.failure) };
    }
  }

  rangeResult(r: any): RangeResult {
    return {
      header: header(r.header),
      kvs: r.kvs.map((kv: any) => this.ns.kv(kv)),
      more: r.more,
      count: Number(r.count),
    };
  }

  putResult(r: any): PutResult {
    return { header: header(r.header), prevKv: r.prev_kv ? this.ns.kv(r.prev_kv) : undefined };
  }

  deleteResult(r: any): DeleteResult {
    return {
      header: header(r.header),
      deleted: Number(r.deleted),
      prevKvs: r.prev_kvs.map((kv: any) => this.ns.kv(kv)),
    };
  }

  txnResult(r: any): TxnResult {
    return {
      header: header(r.header),
      succeeded: r.succeeded,
      results: r.responses.map((res: any): OpResult => {
        switch (res.response) {
          case 'response_range':
            return { type: 'range', result: this.rangeResult(res.response_range) };
          case 'response_put':
            return { type: 'put', result: this.putResult(res.response_put) };
          case 'response_delete_range':
            return { type: 'delete', result: this.deleteResult(res.response_delete_range) };
          default:
            return { type: 'txn', result: this.txnResult(res.response_txn) };
        }
      }),
    };
  }
}

const readOnly = (ops: Op[]): boolean =>
  ops.every((o) => o.type === 'range' || (o.type === 'txn' && readOnly([...o.success, ...o.failure])));

export class TxnBuilder {
  private readonly compares: Compare[] = [];
  private readonly success: Op[] = [];
  private readonly failure: Op[] = [];

  constructor(private readonly kv: KV) {}

  if(...compares: Compare[]): this {
    this.compares.push(...compares);
    return this;
  }

  then(...ops: Op[]): this {
    this.success.push(...ops);
    return this;
  }

  else(...ops: Op[]): this {
    this.failure.push(...ops);
    return this;
  }

  commit(opts?: CallOptions): Promise<TxnResult> {
    return this.kv.txnOf(this.compares, this.success, this.failure, opts);
  }
}

export class KV {
  readonly codec: KvCodec;

  constructor(
    private readonly conn: Connection,
    ns: Namespace,
  ) {
    this.codec = new KvCodec(ns);
  }

  /** The value of one key, or undefined when it does not exist. */
  async get(
    key: Bytes,
    options: Omit<RangeOptions, 'prefix' | 'rangeEnd'> & CallOptions = {},
  ): Promise<KeyValue | undefined> {
    return (await this.range(key, options)).kvs[0];
  }

  /** A range or prefix query with every etcd option. */
  async range(key: Bytes, options: RangeOptions & CallOptions = {}): Promise<RangeResult> {
    const res = await this.conn.unary(
      'KV',
      'Range',
      this.codec.rangeRequest(key, options),
      'idempotent',
      options,
    );
    return this.codec.rangeResult(res);
  }

  /** Every key starting with `prefix`. */
  prefix(
    prefix: Bytes,
    options: Omit<RangeOptions, 'prefix' | 'rangeEnd'> & CallOptions = {},
  ): Promise<RangeResult> {
    return this.range(prefix, { ...options, prefix: true });
  }

  async put(key: Bytes, value: Bytes, options: PutOptions & CallOptions = {}): Promise<PutResult> {
    const res = await this.conn.unary(
      'KV',
      'Put',
      this.codec.putRequest(key, value, options),
      'mutating',
      options,
    );
    return this.codec.putResult(res);
  }

  async delete(key: Bytes, options: DeleteOptions & CallOptions = {}): Promise<DeleteResult> {
    const res = await this.conn.unary(
      'KV',
      'DeleteRange',
      this.codec.deleteRequest(key, options),
      'mutating',
      options,
    );
    return this.codec.deleteResult(res);
  }

  /** Starts a txn: `kv.txn().if(cmp.mod('k', '==', 5)).then(op.put('k', 'v')).else(op.get('k')).commit()`. */
  txn(): TxnBuilder {
    return new TxnBuilder(this);
  }

  async txnOf(compares: Compare[], success: Op[], failure: Op[], opts: CallOptions = {}): Promise<TxnResult> {
    const safety = readOnly([...success, ...failure]) ? 'idempotent' : 'mutating';
    const res = await this.conn.unary(
      'KV',
      'Txn',
      this.codec.txnRequest(compares, success, failure),
      safety,
      opts,
    );
    return this.codec.txnResult(res);
  }

  /** Compacts the history up to `revision`; `physical` waits until the space is reclaimed. */
  async compact(
    revision: number,
    options: { physical?: boolean } & CallOptions = {},
  ): Promise<ResponseHeader> {
    const req = { revision: String(revision), physical: !!options.physical };
    return header(((await this.conn.unary('KV', 'Compact', req, 'mutating', options)) as any).header);
  }
}
