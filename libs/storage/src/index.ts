export * from './types';
export * from './errors';
export { Engine } from './rocks';
export type { EngineOp } from './rocks';
export { MvccStore, toKeyRange } from './mvcc';
export type { LeaseLookup, FlushedBatch } from './mvcc';
export { metaKey, encodeNumber, decodeNumber, parseRevKey, REV_PREFIX, writeUint64BE } from './encoding';
export { Crc32c, crc32c } from './crc32c';
export { keyString, keyBuffer } from './key-index';
