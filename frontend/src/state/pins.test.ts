import { describe, expect, it } from 'vitest';
import { applyAll, authoredBy, BOB, frame, makeMessage, makeRoom, ME, newMessage, startedState } from '../test/fixtures';
import type { Message, ServerFrame } from '../types';
import type { ChatState } from './model';
import { reduce } from './reducer';

const ROOM = 10;
const BY = authoredBy(BOB);

function pinned(m: Message, at: string, by = BOB.id): Message {
  return { ...m, pinned_at: at, pinned_by: by };
}

function pinFrame(m: Message, seq: number, at = '2026-01-05T11:00:00Z'): ServerFrame {
  return { type: 'message.pinned', room: ROOM, seq, message_id: m.id, message: pinned(m, at), by: BY };
}

function unpinFrame(m: Message, seq: number): ServerFrame {
  return { type: 'message.unpinned', room: ROOM, seq, message_id: m.id, message: { ...m, pinned_at: null, pinned_by: null }, by: BY };
}

/** A started state with these messages in the room's window and the pins list loaded. */
function withPins(messages: Message[], pins: Message[] = []): ChatState {
  let s = startedState([makeRoom({ last_seq: 5 })]);
  s = reduce(s, { type: 'timeline/loaded', roomId: ROOM, mode: 'latest', messages, limit: 50 });
  return reduce(s, { type: 'pins/loaded', roomId: ROOM, messages: pins });
}

const ids = (s: ChatState) => s.pins[ROOM]?.map((m) => m.id);

describe('pins', () => {
  it('loads a room list, newest pin first', () => {
    const a = pinned(makeMessage({ id: 1 }), '2026-01-05T09:00:00Z');
    const b = pinned(makeMessage({ id: 2 }), '2026-01-05T12:00:00Z');
    const s = withPins([], [a, b]);
    expect(ids(s)).toEqual([2, 1]);
  });

  it('a pin event marks the loaded message and puts it first in the list', () => {
    const old = pinned(makeMessage({ id: 1, seq: 4 }), '2026-01-05T09:00:00Z');
    const m = makeMessage({ id: 2, seq: 5 });
    let s = withPins([{ ...old }, m], [old]);
    s = applyAll(s, [pinFrame(m, 6)]);
    expect(s.messages[2].pinned_at).toBe('2026-01-05T11:00:00Z');
    expect(s.messages[2].pinned_by).toBe(BOB.id);
    expect(ids(s)).toEqual([2, 1]);
    expect(s.seqs[ROOM].last).toBe(6);
    expect(s.users[BOB.id].display_name).toBe('Bob'); // who pinned, for the label
    // The same event again (a replay) changes nothing.
    expect(reduce(s, frame(pinFrame(m, 6)))).toBe(s);
  });

  it('an unpin event clears the mark and takes it out of the list', () => {
    const m = pinned(makeMessage({ id: 3, seq: 5 }), '2026-01-05T09:00:00Z');
    const s = applyAll(withPins([m], [m]), [unpinFrame(m, 6)]);
    expect(s.messages[3].pinned_at).toBeNull();
    expect(ids(s)).toEqual([]);
  });

  it('keeps only the pin from the event: a newer edit and reactions stay', () => {
    const m = makeMessage({ id: 4, seq: 5, body: 'v1' });
    let s = withPins([m]);
    const edited = { ...m, body: 'v2', edited_at: '2026-01-05T10:01:00Z' };
    s = applyAll(s, [{ type: 'message.edited', room: ROOM, seq: 6, message: edited }]);
    s = applyAll(s, [{ type: 'reaction.added', room: ROOM, seq: 7, message_id: 4, emoji: 'eyes', user_id: ME.id }]);
    // My own pin's local echo (no seq) carries the copy I clicked: older text, no reaction.
    s = reduce(s, frame({ type: 'message.pinned', room: ROOM, message_id: 4, message: pinned(m, '2026-01-05T11:00:00Z', ME.id) } as unknown as ServerFrame));
    expect(s.messages[4].body).toBe('v2');
    expect(s.messages[4].reactions).toEqual([{ emoji: 'eyes', count: 1, users: [ME.id] }]);
    expect(s.messages[4].pinned_by).toBe(ME.id);
    expect(ids(s)).toEqual([4]);
  });

  it('keeps the list current without the message loaded in the timeline', () => {
    const far = makeMessage({ id: 5, seq: 2, body: 'old decision' });
    let s = withPins([]);
    s = applyAll(s, [pinFrame(far, 6)]);
    expect(ids(s)).toEqual([5]);
    expect(s.messages[5]).toBeUndefined(); // not put into the timeline
    s = applyAll(s, [{ type: 'message.edited', room: ROOM, seq: 7, message: pinned({ ...far, body: 'new decision' }, '2026-01-05T11:00:00Z') }]);
    expect(s.pins[ROOM][0].body).toBe('new decision');
  });

  it('a deleted message leaves the list (event and my own delete)', () => {
    const a = pinned(makeMessage({ id: 6, seq: 4 }), '2026-01-05T09:00:00Z');
    const b = pinned(makeMessage({ id: 7, seq: 5 }), '2026-01-05T09:30:00Z');
    let s = withPins([a], [a, b]);
    s = applyAll(s, [{ type: 'message.deleted', room: ROOM, seq: 6, message_id: 7, thread_id: null }]);
    expect(ids(s)).toEqual([6]);
    s = reduce(s, { type: 'message/removed', messageId: 6 });
    expect(ids(s)).toEqual([]);
  });

  it('a replayed pin of a message deleted since pins nothing', () => {
    const m = makeMessage({ id: 8, seq: 5 });
    const redacted = { ...m, body: '', html: '', deleted: true, pinned_at: null, pinned_by: null };
    const s = applyAll(withPins([m]), [
      { type: 'message.pinned', room: ROOM, seq: 6, message_id: 8, message: redacted, by: BY },
      { type: 'message.deleted', room: ROOM, seq: 7, message_id: 8, thread_id: null },
    ]);
    expect(ids(s)).toEqual([]);
    expect(s.messages[8]).toBeUndefined();
  });

  it('events do not build a list that was never loaded', () => {
    let s = startedState();
    s = applyAll(s, [newMessage(makeMessage({ id: 9, seq: 6 })), pinFrame(makeMessage({ id: 9, seq: 6 }), 7)]);
    expect(s.pins[ROOM]).toBeUndefined();
    expect(s.messages[9].pinned_at).toBe('2026-01-05T11:00:00Z');
  });

  it('an edit from my own request updates the pinned copy', () => {
    const m = pinned(makeMessage({ id: 11, seq: 5, body: 'before' }), '2026-01-05T09:00:00Z');
    const s = reduce(withPins([m], [m]), { type: 'message/upserted', message: { ...m, body: 'after' } });
    expect(s.pins[ROOM][0].body).toBe('after');
  });

  it('a resync forgets the list (reloaded when shown); leaving the room drops it', () => {
    const m = pinned(makeMessage({ id: 12, seq: 5 }), '2026-01-05T09:00:00Z');
    const s = withPins([m], [m]);
    const resynced = reduce(s, { type: 'room/resynced', room: makeRoom({ last_seq: 9 }), messages: [m], limit: 50 });
    expect(resynced.pins[ROOM]).toBeUndefined();
    expect(resynced.messages[12].pinned_at).toBe('2026-01-05T09:00:00Z'); // from the fetched page
    const left = reduce(s, { type: 'room/forgotten', roomId: ROOM });
    expect(left.pins[ROOM]).toBeUndefined();
  });

  it('ignores pins loaded for a room I do not know', () => {
    const s = startedState();
    expect(reduce(s, { type: 'pins/loaded', roomId: 999, messages: [] })).toBe(s);
  });
});
