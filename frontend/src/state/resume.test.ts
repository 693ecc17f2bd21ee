import { describe, expect, it } from 'vitest';
import { applyAll, makeMessage, makeRoom, newMessage, startedState } from '../test/fixtures';
import type { ServerFrame } from '../types';
import type { ChatState } from './model';
import { reduce } from './reducer';
import { buildResume } from './resume';

describe('buildResume', () => {
  it('asks for every joined room from its contiguous watermark', () => {
    const s = startedState([
      makeRoom({ id: 1, last_seq: 4 }),
      makeRoom({ id: 2, last_seq: 9 }),
      makeRoom({ id: 3, joined: false, role: null, last_seq: 30 }),
    ]);
    expect(buildResume(s)).toEqual({ type: 'resume', rooms: { '1': 4, '2': 9 } });
  });

  it('asks from below a hole, not from the highest seq seen', () => {
    const s = applyAll(startedState([makeRoom({ id: 10, last_seq: 5 })]), [
      newMessage(makeMessage({ seq: 6 })),
      newMessage(makeMessage({ seq: 9 })),
    ]);
    expect(buildResume(s).rooms).toEqual({ '10': 6 });
  });

  it('includes user_seq once the server has told it', () => {
    const s = reduce(startedState(), { type: 'server/frame', frame: { type: 'ready', user_seq: 3 }, now: 0 });
    expect(buildResume(s).user_seq).toBe(3);
    expect(buildResume(startedState())).not.toHaveProperty('user_seq');
  });
});

/**
 * Zulip's verify_action idea applied to resume: a client that saw only part
 * of the stream (dropped, duplicated, reordered frames), then resumed and got
 * the replay of everything after its watermark, ends in the same state as a
 * client that saw the whole stream in order.
 */
describe('resume converges', () => {
  const ROOM = 10;
  const stream: ServerFrame[] = [];
  let seq = 5;
  const next = () => ++seq;
  const ids = [1001, 1002, 1003, 1004, 1005];
  for (const id of ids) {
    stream.push(newMessage(makeMessage({ id, seq: next(), body: id === 1003 ? 'hey @ann' : `m${id}` })));
  }
  stream.push({ type: 'reaction.added', room: ROOM, seq: next(), message_id: 1002, emoji: '🎉', user_id: 2 });
  stream.push({ type: 'message.edited', room: ROOM, seq: next(), message: makeMessage({ id: 1001, seq: 6, body: 'edited', edited_at: '2026-01-05T11:00:00Z' }) });
  stream.push({ type: 'message.deleted', room: ROOM, seq: next(), message_id: 1004 });
  stream.push({ type: 'member.joined', room: ROOM, seq: next(), user_id: 77 });
  stream.push({ type: 'room.updated', seq: next(), room: { id: ROOM, topic: 'incident' } });

  const snapshot = (s: ChatState) => ({
    ids: s.timelines[ROOM].ids,
    messages: s.timelines[ROOM].ids.map((id) => s.messages[id]),
    room: s.rooms[ROOM],
    seqs: s.seqs[ROOM],
  });

  const expected = snapshot(applyAll(startedState(), stream));

  function seqOf(f: ServerFrame): number {
    return (f as { seq: number }).seq;
  }

  function resumeReplay(s: ChatState): ServerFrame[] {
    const from = s.seqs[ROOM].last;
    return stream.filter((f) => seqOf(f) > from);
  }

  it('after losing the tail of the stream', () => {
    const s = applyAll(startedState(), stream.slice(0, 4));
    expect(snapshot(applyAll(s, resumeReplay(s)))).toEqual(expected);
  });

  it('after frames that were dropped, duplicated and reordered', () => {
    const seen = [stream[0], stream[2], stream[2], stream[1], stream[6], stream[4], stream[0], stream[9]];
    const s = applyAll(startedState(), seen);
    expect(snapshot(applyAll(s, resumeReplay(s)))).toEqual(expected);
  });

  it('when the replay overlaps live frames that arrive twice', () => {
    const s = applyAll(startedState(), stream.slice(0, 6));
    const replay = resumeReplay(s);
    const doubled = [...replay, ...stream.slice(3)];
    expect(snapshot(applyAll(s, doubled))).toEqual(expected);
  });

  it('when later events overtook the ones they change', () => {
    const seen = [stream[6], stream[7], stream[5], stream[9], stream[1]];
    const s = applyAll(startedState(), seen);
    expect(snapshot(applyAll(s, resumeReplay(s)))).toEqual(expected);
  });

  it('on every prefix of the stream', () => {
    for (let cut = 0; cut <= stream.length; cut += 1) {
      const s = applyAll(startedState(), stream.slice(0, cut));
      expect(snapshot(applyAll(s, resumeReplay(s)))).toEqual(expected);
    }
  });
});
