import { HubFixture } from '../../../watch/src/testing';
import { GrpcCode } from '../etcd-errors';
import { prefixEnd, waitForDelete } from './key-waits';

const b = (s: string) => Buffer.from(s);

describe('waitForDelete', () => {
  let f: HubFixture;
  beforeEach(async () => (f = await HubFixture.open()));
  afterEach(() => f.close());

  it('resolves at the deletion of the key, not at puts to it or deletions of others', async () => {
    f.put('lk/1');
    const done = waitForDelete(f.hub, b('lk/1'), f.store.revision + 1, new AbortController().signal);
    let settled = false;
    void done.then(() => (settled = true));
    f.put('lk/1', 'again');
    f.put('lk/2');
    f.apply((s) => s.deleteRange({ key: b('lk/2') }));
    await f.settle();
    expect(settled).toBe(false);
    f.apply((s) => s.deleteRange({ key: b('lk/1') }));
    expect(await done).toBe(f.store.revision);
    expect(f.hub.counts).toEqual({ synced: 0, unsynced: 0 });
  });

  it('finds a deletion that already happened, from history', async () => {
    f.put('lk/1');
    const from = f.store.revision;
    f.apply((s) => s.deleteRange({ key: b('lk/1') }));
    const deletedAt = f.store.revision;
    f.put('other');
    await expect(waitForDelete(f.hub, b('lk/1'), from, new AbortController().signal)).resolves.toBe(
      deletedAt,
    );
  });

  it('rejects as canceled when the caller gives up, and forgets its watcher', async () => {
    f.put('lk/1');
    const stop = new AbortController();
    const done = waitForDelete(f.hub, b('lk/1'), f.store.revision + 1, stop.signal);
    stop.abort();
    await expect(done).rejects.toMatchObject({ code: GrpcCode.CANCELLED });
    expect(f.hub.counts).toEqual({ synced: 0, unsynced: 0 });
  });
});

describe('prefixEnd', () => {
  it('is the prefix with its last byte below 0xff incremented', () => {
    expect(prefixEnd(b('lk/'))).toEqual(b('lk0'));
    expect(prefixEnd(Buffer.from([0x61, 0xff, 0xff]))).toEqual(Buffer.from([0x62]));
    expect(prefixEnd(Buffer.from([0xff]))).toEqual(Buffer.from([0]));
  });
});
