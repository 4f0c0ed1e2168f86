// What the bench sends. A workload builds one WorkloadClient per concurrent client; the runner
// calls issue() back to back and times each call. Adding a workload (watch and lease are next)
// means adding a factory to WORKLOADS: a streaming workload opens its stream in newClient() and
// lets issue() resolve on the round trip it measures (a keep-alive answered, an event received).
import { Conn } from './conn';
import { leaseKeepAliveWorkload } from './lease-workload';
import { keyFor, keyIndex, makeValue } from './keys';
import { BenchOptions } from './options';
import { etcdType } from './proto';
import { WatchFanout } from './watch-fanout';

export interface WorkloadClient {
  /** Sends request number `seq` and resolves when it is answered; rejects on failure. */
  issue(seq: number): Promise<void>;
  /** Resolves once the client's own set-up (e.g. its lease and stream) is done; not timed. */
  ready?(): Promise<void>;
  close?(): void;
}

export interface Workload {
  readonly name: string;
  /** Runs once before timing starts, from the coordinating process only (e.g. prefill). */
  setup?(conn: Conn): Promise<void>;
  /** Runs in each load thread once its connections are up, before timing (e.g. open streams). */
  open?(conns: Conn[]): Promise<void>;
  newClient(conn: Conn): WorkloadClient;
  close?(): void;
}

export type WorkloadFactory = (o: BenchOptions) => Workload;

const PUT = '/etcdserverpb.KV/Put';
const RANGE = '/etcdserverpb.KV/Range';
const TXN = '/etcdserverpb.KV/Txn';

// Enum numbers from rpc.proto (Compare.CompareTarget.MOD, Compare.CompareResult.LESS).
const TARGET_MOD = 2;
const RESULT_LESS = 2;

/** Encoders and decoders for the KV calls, bound to the option values that do not change. */
function kvCodec(o: BenchOptions) {
  const PutRequest = etcdType('PutRequest');
  const PutResponse = etcdType('PutResponse');
  const RangeRequest = etcdType('RangeRequest');
  const RangeResponse = etcdType('RangeResponse');
  const TxnRequest = etcdType('TxnRequest');
  const TxnResponse = etcdType('TxnResponse');
  const value = makeValue(o.valSize);
  const key = (seq: number) => keyFor(keyIndex(seq, o.keySpaceSize, o.sequentialKeys), o.keySize);
  return {
    put: (conn: Conn, seq: number) =>
      conn.unary(PUT, Buffer.from(PutRequest.encode({ key: key(seq), value }).finish()), (b) =>
        PutResponse.decode(b),
      ),
    range: (conn: Conn, seq: number) =>
      conn.unary(
        RANGE,
        Buffer.from(RangeRequest.encode({ key: key(seq), serializable: o.consistency === 's' }).finish()),
        (b) => RangeResponse.decode(b),
      ),
    /**
     * A guarded write like etcd's benchmark txn-put: compare the first key's mod revision
     * (always below MAX_SAFE_INTEGER, so the guard holds) and put --txn-ops distinct keys.
     */
    txn: async (conn: Conn, seq: number) => {
      const first = keyIndex(seq, o.keySpaceSize, o.sequentialKeys);
      const keys = Array.from({ length: o.txnOps }, (_, i) =>
        keyFor((first + i) % o.keySpaceSize, o.keySize),
      );
      const req = TxnRequest.encode({
        compare: [
          { key: keys[0], target: TARGET_MOD, result: RESULT_LESS, mod_revision: Number.MAX_SAFE_INTEGER },
        ],
        success: keys.map((k) => ({ request_put: { key: k, value } })),
      }).finish();
      const res = await conn.unary(
        TXN,
        Buffer.from(req),
        (b) => TxnResponse.decode(b) as unknown as { succeeded: boolean },
      );
      if (!res.succeeded) throw new Error('txn guard did not hold');
    },
    /** Writes every key of the key space once, a few hundred at a time. */
    prefill: async (conn: Conn) => {
      let next = 0;
      const worker = async () => {
        for (let i = next++; i < o.keySpaceSize; i = next++) {
          const req = PutRequest.encode({ key: keyFor(i, o.keySize), value }).finish();
          await conn.unary(PUT, Buffer.from(req), (b) => b);
        }
      };
      await Promise.all(Array.from({ length: Math.min(256, o.keySpaceSize) }, worker));
    },
  };
}

const unaryClient = (issue: (seq: number) => Promise<unknown>): WorkloadClient => ({
  issue: async (seq) => void (await issue(seq)),
});

export const WORKLOADS: Record<string, WorkloadFactory> = {
  put: (o) => {
    const kv = kvCodec(o);
    return { name: 'put', newClient: (conn) => unaryClient((seq) => kv.put(conn, seq)) };
  },
  range: (o) => {
    const kv = kvCodec(o);
    return {
      name: o.consistency === 's' ? 'range-serializable' : 'range',
      setup: o.prefill ? (conn) => kv.prefill(conn) : undefined,
      newClient: (conn) => unaryClient((seq) => kv.range(conn, seq)),
    };
  },
  txn: (o) => {
    if (o.txnOps > o.keySpaceSize) throw new Error('--txn-ops cannot exceed --key-space-size');
    const kv = kvCodec(o);
    return { name: 'txn', newClient: (conn) => unaryClient((seq) => kv.txn(conn, seq)) };
  },
  /**
   * Fan-out: --watchers streams watch every key; each request is a put, timed until its event
   * has reached every watcher. Events delivered per second = throughput x watchers.
   */
  watch: (o) => {
    if (o.workers !== 1) throw new Error('watch: the watchers live in one load thread (use --workers 1)');
    const kv = kvCodec(o);
    const fanout = new WatchFanout(o.watchers);
    return {
      name: 'watch',
      open: (conns) =>
        fanout.open(
          conns.map((c) => c.endpoint),
          conns.length,
        ),
      close: () => fanout.close(),
      newClient: (conn) => unaryClient(async (seq) => fanout.delivered(revisionOf(await kv.put(conn, seq)))),
    };
  },
  mixed: (o) => {
    const kv = kvCodec(o);
    return {
      name: 'mixed',
      setup: o.prefill ? (conn) => kv.prefill(conn) : undefined,
      newClient: (conn) =>
        unaryClient((seq) => (Math.random() < o.readRatio ? kv.range(conn, seq) : kv.put(conn, seq))),
    };
  },
  'lease-keepalive': () => leaseKeepAliveWorkload(),
};

/** A response header's revision (protobufjs decodes int64 as a Long or a number). */
function revisionOf(res: unknown): number {
  const rev = (res as { header?: { revision?: number | { toNumber(): number } } }).header?.revision ?? 0;
  return typeof rev === 'number' ? rev : rev.toNumber();
}

export function workloadFor(o: BenchOptions): Workload {
  const make = WORKLOADS[o.workload];
  if (!make)
    throw new Error(`unknown workload "${o.workload}" (known: ${Object.keys(WORKLOADS).join(', ')})`);
  return make(o);
}
