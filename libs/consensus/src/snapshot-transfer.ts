import * as grpc from '@grpc/grpc-js';
import { Message, MessageType, decodeMessage, encodeMessage } from '../../raft/src';
import { SnapshotChunkMessage } from './peer-protocol';
import { ImageChecksum, SnapshotBusyError, SnapshotStaging, StagingWriter } from './snapshot-staging';

/** Bytes of records per chunk: bounded memory on both sides whatever the image's size. */
export const SNAPSHOT_CHUNK_BYTES = 1 << 20;

/**
 * How long the sender waits for the follower to take a chunk, or to answer once it has the
 * last one (it stages the image durably first), before it gives the transfer up. etcd bounds
 * each write of its snapshot POST (5 s) the same way; this is looser, for a loaded machine.
 */
export const SNAPSHOT_STALL_MS = 30_000;

/**
 * Sends `m` and `image` over one Peer.Snapshot call, a chunk at a time: the next records are
 * read only once gRPC took the previous chunk (write() returned true or 'drain' fired), so a
 * slow follower holds the leader to one chunk in memory. Resolves with the record count once
 * the follower acknowledged (it staged the image and handed `m` to Raft). A follower that
 * stops reading, or never answers, fails the transfer after `stallMs`: the call is cancelled
 * and the image closed, so nothing stays pinned on the leader.
 */
export async function sendSnapshot(
  client: grpc.Client & Record<string, (...args: unknown[]) => unknown>,
  metadata: grpc.Metadata,
  m: Message,
  image: AsyncGenerator<[Buffer, Buffer][]>,
  { chunkBytes = SNAPSHOT_CHUNK_BYTES, stallMs = SNAPSHOT_STALL_MS } = {},
): Promise<number> {
  let answer!: Promise<void>;
  const stream = (() => {
    let s!: grpc.ClientWritableStream<SnapshotChunkMessage>;
    answer = new Promise<void>((ok, fail) => {
      s = client.Snapshot(metadata, (err: grpc.ServiceError | null) =>
        err ? fail(new Error(err.details || err.message)) : ok(),
      ) as grpc.ClientWritableStream<SnapshotChunkMessage>;
    });
    return s;
  })();
  // The answer may come early (a refusal): keep it observed, and stop producing when it does.
  let finished = false;
  answer.then(
    () => (finished = true),
    () => (finished = true),
  );
  const sum = new ImageChecksum();
  const write = async (chunk: SnapshotChunkMessage) => {
    if (finished) throw new Error('the follower ended the snapshot transfer');
    if (!stream.write(chunk)) {
      const drained = new Promise<void>((ok) => stream.once('drain', ok));
      await within(Promise.race([drained, answer.catch(() => undefined)]), stallMs, 'take a chunk');
    }
  };
  try {
    await write({ message: encodeMessage(m) });
    let keys: Buffer[] = [];
    let values: Buffer[] = [];
    let bytes = 0;
    for await (const records of image) {
      for (const [k, v] of records) {
        sum.add(k, v);
        keys.push(k);
        values.push(v);
        bytes += k.length + v.length;
        if (bytes >= chunkBytes) {
          await write({ keys, values });
          keys = [];
          values = [];
          bytes = 0;
        }
      }
    }
    await write({ keys, values, last: true, records: sum.records, crc32c: sum.digest() });
    stream.end();
    await within(answer, stallMs, 'answer');
    return sum.records;
  } catch (err) {
    stream.cancel();
    await image.return(undefined);
    throw err;
  }
}

/** `p`, or a rejection once `ms` passed without it settling. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`the follower did not ${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Receives one Peer.Snapshot call into `staging`: the first chunk's message must be a snapshot
 * for this member; records are staged as they come; the last chunk's count and checksum must
 * match. Resolves with the message once the image is staged durably; on any failure (bad
 * checksum, cut stream, a newer transfer) the staging is dropped and the live state untouched.
 */
export function receiveSnapshot(
  call: grpc.ServerReadableStream<SnapshotChunkMessage, object>,
  staging: SnapshotStaging,
  me: bigint,
): Promise<Message> {
  return new Promise<Message>((resolve, reject) => {
    let writer: StagingWriter | undefined;
    let message: Message | undefined;
    let settled = false;
    const fail = (err: Error, code = grpc.status.ABORTED) => {
      if (settled) return;
      settled = true;
      writer?.abort();
      call.destroy();
      reject(Object.assign(err, { code: err instanceof SnapshotBusyError ? grpc.status.UNAVAILABLE : code }));
    };
    call.on('data', (chunk: SnapshotChunkMessage) => {
      if (settled) return;
      try {
        if (!message) {
          const m = decodeMessage(chunk.message ?? new Uint8Array(0));
          if (m.type !== MessageType.Snap || !m.snapshot || m.to !== me) {
            return fail(
              new Error('the first snapshot chunk is not a snapshot for this member'),
              grpc.status.INVALID_ARGUMENT,
            );
          }
          message = m;
          writer = staging.begin();
        }
        const keys = chunk.keys ?? [];
        const values = chunk.values ?? [];
        if (keys.length !== values.length)
          return fail(new Error('snapshot chunk with unpaired records'), grpc.status.INVALID_ARGUMENT);
        if (keys.length > 0) writer!.write(keys.map((k, i) => [k, values[i]]));
        if (chunk.last) {
          settled = true;
          const m = message;
          writer!.finish(m.snapshot!.metadata, chunk.crc32c ?? 0, Number(chunk.records ?? 0)).then(
            () => resolve(m),
            (err: Error) => {
              writer?.abort();
              reject(Object.assign(err, { code: grpc.status.DATA_LOSS }));
            },
          );
        }
      } catch (err) {
        fail(err as Error);
      }
    });
    call.on('end', () => fail(new Error('snapshot stream ended before its last chunk')));
    call.on('error', (err) => fail(err));
    call.on('close', () => fail(new Error('snapshot stream closed before its last chunk')));
  });
}
