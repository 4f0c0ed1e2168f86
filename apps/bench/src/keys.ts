// Keys of exactly --key-size bytes, drawn from a key space of --key-space-size distinct keys.
// Keys are the zero-padded decimal index ("00000042"): readable in etcdctl, and sortable.

export function keyFor(index: number, keySize: number): Buffer {
  return Buffer.from(String(index).padStart(keySize, '0'));
}

/** Picks the key index for a request: the request's sequence number or a uniform random draw. */
export function keyIndex(seq: number, keySpaceSize: number, sequential: boolean): number {
  return sequential ? seq % keySpaceSize : Math.floor(Math.random() * keySpaceSize);
}

/** The same value bytes for every put (as etcd's benchmark does); content does not matter. */
export function makeValue(size: number): Buffer {
  return Buffer.alloc(size, 'v');
}
