import type { Http2Server, Http2Session } from 'node:http2';
import { types } from 'node:util';
import { KeyTable } from '../../storage/src';

/** Where a session keeps its streams, if this Node's node:http2 is laid out as expected. */
function sessionState(session: Http2Session): { streams: unknown } | undefined {
  const key = Object.getOwnPropertySymbols(session).find((s) => s.description === 'state');
  const state = key === undefined ? undefined : (session as unknown as Record<symbol, unknown>)[key];
  if (typeof state !== 'object' || state === null || !('streams' in state)) return undefined;
  return state as { streams: unknown };
}

/**
 * Gives every new session of `server` a KeyTable for its open streams in place of node:http2's
 * Map by stream id. A stream per call is the churn that makes a long-lived Map promote all it
 * ever held (see KeyTable): a bare node:http2 server answering 200 concurrent calls over 20
 * connections promoted about 2 MB per young collection and ran a full collection every second
 * or so; with the tables it promoted nothing and ran one full collection per run (Node 20).
 * Stream ids rise within a session, so the table iterates in the Map's order. Node 20 calls
 * get, set, delete, size and forEach on it; the table has the whole Map interface in case
 * another version calls more. A session that does not hold its streams in an empty Map
 * (another layout, or streams already open) keeps its own.
 *
 * Returns whether the first session took a table (for tests; undefined before any session).
 */
export function useStreamTables(server: Http2Server): { installed: () => boolean | undefined } {
  let first: boolean | undefined;
  server.on('session', (session: Http2Session) => {
    const state = sessionState(session);
    const ok = state !== undefined && types.isMap(state.streams) && state.streams.size === 0;
    if (ok) state.streams = KeyTable.ofNumbers();
    first ??= ok;
  });
  return { installed: () => first };
}
