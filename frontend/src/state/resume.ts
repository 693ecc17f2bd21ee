/** The `resume` frame sent on every (re)connect before going live. */
import type { ClientFrame } from '../types';
import type { ChatState } from './model';

/**
 * Ask for everything after the contiguous watermark of each room I am in.
 * Events applied past a hole are replayed too and skipped as duplicates.
 */
export function buildResume(state: ChatState): Extract<ClientFrame, { type: 'resume' }> {
  const rooms: Record<string, number> = {};
  for (const room of Object.values(state.rooms)) {
    const track = state.seqs[room.id];
    if (room.joined && track) rooms[String(room.id)] = track.last;
  }
  const frame: Extract<ClientFrame, { type: 'resume' }> = { type: 'resume', rooms };
  if (state.userSeq != null) frame.user_seq = state.userSeq;
  return frame;
}
