/**
 * Per-room sequence bookkeeping.
 *
 * Every durable room event carries a gapless per-room `seq`. A tracker keeps
 * the contiguous watermark `last` (every seq <= last has been applied) plus
 * the seqs already received beyond a hole (`ahead`, ascending: events held
 * until the hole fills, and my own acknowledged messages). That makes events
 * idempotent (a seq seen before is a duplicate) and tells when a hole exists
 * so the room can be refetched. Resume asks the server for everything after
 * `last`; replayed events already in `ahead` are then skipped as duplicates.
 */

export interface SeqTrack {
  last: number;
  ahead: number[];
}

export type SeqVerdict = 'duplicate' | 'next' | 'ahead';

export function newTrack(last: number): SeqTrack {
  return { last: Math.max(0, last || 0), ahead: [] };
}

/** Tell whether an event with `seq` was already applied, is next, or lands past a hole. */
export function judgeSeq(track: SeqTrack, seq: number): SeqVerdict {
  if (seq <= track.last || track.ahead.includes(seq)) return 'duplicate';
  return seq === track.last + 1 ? 'next' : 'ahead';
}

/** Record `seq` as received (callers pass only non-duplicates). */
export function recordSeq(track: SeqTrack, seq: number): SeqTrack {
  if (judgeSeq(track, seq) === 'duplicate') return track;
  const ahead = [...track.ahead, seq].sort((a, b) => a - b);
  return closeUp(track.last, ahead);
}

/**
 * Move the watermark up to `seq` after a refetch that reflects the room's
 * state at that seq: every seq up to it counts as applied.
 */
export function fastForward(track: SeqTrack, seq: number): SeqTrack {
  const last = Math.max(track.last, seq);
  return closeUp(last, track.ahead.filter((s) => s > last));
}

export function hasGap(track: SeqTrack | undefined): boolean {
  return !!track && track.ahead.length > 0;
}

function closeUp(last: number, ahead: number[]): SeqTrack {
  let i = 0;
  while (i < ahead.length && ahead[i] <= last + 1) {
    last = Math.max(last, ahead[i]);
    i += 1;
  }
  return { last, ahead: ahead.slice(i) };
}
