// --auto-compaction-retention as etcd 3.4's embed.parseCompactionRetention reads it:
// a plain non-negative integer means hours (periodic) or revisions (revision);
// anything else must be a Go duration ("30m", "1h30m").
import { parseGoDuration } from './go-values';

export type AutoCompaction =
  | { readonly mode: 'periodic'; readonly retentionMs: number }
  | { readonly mode: 'revision'; readonly retentionRevisions: number };

/** null when retention is zero (auto compaction off). Throws with etcd's message. */
export function resolveAutoCompaction(mode: string, retention: string): AutoCompaction | null {
  // Go's strconv.Atoi: optional sign, decimal digits only.
  const asInt = /^[+-]?\d+$/.test(retention) ? Number(retention) : NaN;
  if (Number.isSafeInteger(asInt) && asInt >= 0) {
    if (asInt === 0) return null;
    return mode === 'revision'
      ? { mode: 'revision', retentionRevisions: asInt }
      : { mode: 'periodic', retentionMs: asInt * 3_600_000 };
  }
  let ms: number;
  try {
    ms = parseGoDuration(retention);
  } catch (e) {
    throw new Error(`error parsing CompactionRetention: ${(e as Error).message}`, { cause: e });
  }
  if (mode === 'revision') {
    // etcd would read "1h" as 3.6e12 revisions; that is never what was meant.
    throw new Error(
      `error parsing CompactionRetention: revision mode takes a number of revisions, got duration ${JSON.stringify(retention)}`,
    );
  }
  if (ms < 0)
    throw new Error(`error parsing CompactionRetention: negative duration ${JSON.stringify(retention)}`);
  return ms === 0 ? null : { mode: 'periodic', retentionMs: ms };
}
