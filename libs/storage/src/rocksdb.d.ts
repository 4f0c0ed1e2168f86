// @nxtedition/rocksdb ships no type declarations; Engine (rocks.ts) is its only user.
declare module '@nxtedition/rocksdb' {
  export class RocksLevel {
    constructor(locationOrHandle: unknown, options?: unknown);
    open(options?: unknown): Promise<void>;
    close(): Promise<void>;
    iterator(options?: unknown): { nextv(size: number): Promise<unknown[]>; close(): Promise<void> };
    getProperty(name: string): string;
    readonly handle: unknown;
  }
}
