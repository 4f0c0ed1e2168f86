import { pb } from '../../server/src';
import { uint64FromBits } from '../../server/src/etcd-types';
import { WireEvent, WireKeyValue, WireWatchResponse } from './watch-wire';

/**
 * Protobuf sizes of watch responses, computed rather than encoded, to split large responses
 * as etcd does when a watcher asked for fragments. Sized as protobufjs encodes them: every
 * field present in the object is written, zeros, false and empty bytes included.
 */

function varintSize(v: bigint): number {
  if (v < 0n) return 10;
  let n = 1;
  while (v >= 0x80n) {
    v >>= 7n;
    n++;
  }
  return n;
}

const smallVarint = (v: number): number =>
  v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : varintSize(BigInt(v));
const intField = (v: number | string | pb.Uint64Bits | undefined): number => {
  if (v === undefined) return 0;
  const b = typeof v === 'object' ? uint64FromBits(v) : BigInt(v);
  return 1 + varintSize(b);
};
const lengthDelimited = (len: number): number => 1 + smallVarint(len) + len;
const bytesField = (b: Buffer | string | undefined): number =>
  b === undefined ? 0 : lengthDelimited(typeof b === 'string' ? Buffer.byteLength(b) : b.length);
const boolField = (b: boolean | undefined): number => (b === undefined ? 0 : 2);

function kvSize(kv: WireKeyValue): number {
  return (
    bytesField(kv.key) +
    intField(kv.create_revision) +
    intField(kv.mod_revision) +
    intField(kv.version) +
    bytesField(kv.value) +
    intField(kv.lease)
  );
}

function eventSize(ev: WireEvent): number {
  return (
    2 + // type
    lengthDelimited(kvSize(ev.kv)) +
    (ev.prev_kv ? lengthDelimited(kvSize(ev.prev_kv)) : 0)
  );
}

function headerSize(h: WireWatchResponse['header']): number {
  const revision = 'revision' in h ? h.revision : undefined;
  return lengthDelimited(
    intField(h.cluster_id) + intField(h.member_id) + intField(revision) + intField(h.raft_term),
  );
}

/** Everything but the events. */
function baseSize(r: WireWatchResponse): number {
  return (
    headerSize(r.header) +
    intField(r.watch_id) +
    boolField(r.created) +
    boolField(r.canceled) +
    intField(r.compact_revision) +
    bytesField(r.cancel_reason) +
    boolField(r.fragment)
  );
}

export function responseSize(r: WireWatchResponse): number {
  return (r.events ?? []).reduce((sum, ev) => sum + lengthDelimited(eventSize(ev)), baseSize(r));
}

/**
 * etcd's fragmenting: a response of at least `maxBytes` with two or more events is sent as
 * several, each under `maxBytes` (but at least one event each), all marked `fragment` except
 * the last.
 */
export function fragment(r: WireWatchResponse, maxBytes: number): WireWatchResponse[] {
  const events = r.events ?? [];
  if (events.length < 2 || responseSize(r) < maxBytes) return [r];
  const base = baseSize({ ...r, fragment: true });
  const out: WireWatchResponse[] = [];
  let part: WireEvent[] = [];
  let size = base;
  for (const ev of events) {
    const evSize = lengthDelimited(eventSize(ev));
    if (part.length > 0 && size + evSize >= maxBytes) {
      out.push({ ...r, events: part, fragment: true });
      part = [];
      size = base;
    }
    part.push(ev);
    size += evSize;
  }
  out.push({ ...r, events: part });
  return out;
}
