import { etcdType } from './proto';
import { readWatchResponse } from './watch-fanout';

describe('readWatchResponse', () => {
  it('reads the created flag and the distinct event revisions of an encoded WatchResponse', () => {
    const WatchResponse = etcdType('WatchResponse');
    const kv = (key: string, rev: number) => ({
      key: Buffer.from(key),
      mod_revision: rev,
      create_revision: 2,
      version: 3,
      value: Buffer.alloc(300, 1),
    });
    const msg = Buffer.from(
      WatchResponse.encode({
        header: { cluster_id: '18446744073709551615', revision: 99, raft_term: 4 },
        watch_id: 7,
        events: [
          { kv: kv('a', 5) },
          { type: 1, kv: kv('b', 5), prev_kv: kv('b', 4) },
          { kv: kv('c', 300000) },
        ],
      }).finish(),
    );
    expect(readWatchResponse(msg)).toEqual({ created: false, revisions: [5, 300000] });
    const created = Buffer.from(WatchResponse.encode({ watch_id: 0, created: true }).finish());
    expect(readWatchResponse(created)).toEqual({ created: true, revisions: [] });
  });
});
