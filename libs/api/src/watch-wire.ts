import { pb } from '../../server/src';
import { EventType, KeyValue } from '../../storage/src';
import { WatchEvent, WatchReply, WatchSpec } from '../../watch/src';

/** etcdserverpb.WatchRequest as the loader decodes it (snake_case, int64 as strings). */
export interface WatchRequest {
  create_request?: {
    key?: Buffer;
    range_end?: Buffer;
    start_revision?: pb.Int64;
    progress_notify?: boolean;
    filters?: (number | string)[];
    prev_kv?: boolean;
    watch_id?: pb.Int64;
    fragment?: boolean;
  };
  cancel_request?: { watch_id?: pb.Int64 };
  progress_request?: object;
}

export interface WireKeyValue {
  key: Buffer;
  create_revision: number;
  mod_revision: number;
  version: number;
  value: Buffer;
  lease: string;
}

export interface WireEvent {
  type: number;
  kv: WireKeyValue;
  prev_kv?: WireKeyValue;
}

export interface WireWatchResponse {
  header: pb.ResponseHeader | Omit<pb.ResponseHeader, 'revision'>;
  watch_id?: string;
  created?: boolean;
  canceled?: boolean;
  compact_revision?: string;
  cancel_reason?: string;
  fragment?: boolean;
  events?: WireEvent[];
}

const EMPTY = Buffer.alloc(0);
const NOPUT = 0;
const NODELETE = 1;
const int64 = (v: pb.Int64 | null | undefined): bigint => (v == null || v === '' ? 0n : BigInt(v));

/** A create request as the hub takes it; watch's range_end differs from Range's (see below). */
export function watchSpec(r: NonNullable<WatchRequest['create_request']>): {
  watchId: bigint;
  spec: WatchSpec;
} {
  const filters = (r.filters ?? []).map((f) =>
    f === 'NOPUT' ? NOPUT : f === 'NODELETE' ? NODELETE : Number(f),
  );
  const end = r.range_end;
  return {
    watchId: int64(r.watch_id),
    spec: {
      key: r.key ?? EMPTY,
      // An empty range_end is a single key here (etcd's gRPC layer cannot tell it from an
      // absent one); "\0" is every key from `key` on.
      rangeEnd: !end || end.length === 0 ? undefined : end.length === 1 && end[0] === 0 ? null : end,
      startRevision: Number(int64(r.start_revision)),
      noPut: filters.includes(NOPUT),
      noDelete: filters.includes(NODELETE),
      prevKv: !!r.prev_kv,
      progressNotify: !!r.progress_notify,
      fragment: !!r.fragment,
    },
  };
}

// One wire event per store event, however many watchers it goes to.
const wireEvents = new WeakMap<WatchEvent, WireEvent>();

function wireKv(kv: KeyValue): WireKeyValue {
  return {
    key: kv.key,
    create_revision: kv.createRevision,
    mod_revision: kv.modRevision,
    version: kv.version,
    value: kv.value,
    lease: kv.lease.toString(),
  };
}

export function wireEvent(ev: WatchEvent): WireEvent {
  let out = wireEvents.get(ev);
  if (!out) {
    out = { type: ev.type === EventType.DELETE ? 1 : 0, kv: wireKv(ev.kv) };
    if (ev.prevKv) out.prev_kv = wireKv(ev.prevKv);
    wireEvents.set(ev, out);
  }
  return out;
}

/** A reply as etcd 3.4 words it; `header(rev)` supplies the member's ids and term. */
export function wireReply(
  reply: WatchReply,
  header: (revision: number) => pb.ResponseHeader,
): WireWatchResponse {
  switch (reply.kind) {
    case 'created':
      return { header: header(reply.revision), watch_id: reply.watchId.toString(), created: true };
    case 'refused':
      return {
        header: header(reply.revision),
        watch_id: '-1',
        created: true,
        canceled: true,
        cancel_reason: reply.reason,
      };
    case 'canceled':
      return { header: header(reply.revision), watch_id: reply.watchId.toString(), canceled: true };
    case 'progress':
      return { header: header(reply.revision), watch_id: reply.watchId.toString() };
    case 'events':
      return {
        header: header(reply.revision),
        watch_id: reply.watchId.toString(),
        events: reply.events.map(wireEvent),
      };
    case 'compacted': {
      // etcd's compaction notice carries no revision in its header.
      const { revision: _omit, ...rest } = header(0);
      return {
        header: rest,
        watch_id: reply.watchId.toString(),
        canceled: true,
        compact_revision: String(reply.compactRevision),
      };
    }
  }
}
