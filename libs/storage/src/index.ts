export * from './types';
export * from './errors';
export { Engine, EngineOp } from './rocks';
export { MvccStore, LeaseLookup, FlushedBatch, toKeyRange, isReadOnly } from './mvcc';
export { metaKey, encodeNumber, decodeNumber } from './encoding';
