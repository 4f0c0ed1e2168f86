export { WatchHub } from './hub';
export type { WatchHubOptions } from './hub';
export { WatchStream, REFUSED_DUPLICATE_ID, REFUSED_EMPTY_RANGE } from './watch-stream';
export type { WatchReply, WatchTransport, WatchStreamOptions } from './watch-stream';
export { Watcher } from './watcher';
export type { WatchEvent, WatchOutput, WatchSpec, WatchableStore } from './types';
