import { describe, expect, it } from 'vitest';
import { applyAll, authoredBy, BOB, frame, makeMessage, makeRoom, ME, newMessage, startedState } from '../test/fixtures';
import type { ServerFrame } from '../types';
import { reduce } from './reducer';
import { hasGap } from './seq';
import { typingUserIds } from './selectors';

const ROOM = 10;

describe('message.new', () => {
  it('appends to the open room, advances seq and counts it unread', () => {
    const m = makeMessage({ id: 200, seq: 6 });
    const s = applyAll(startedState(), [newMessage(m)]);
    expect(s.timelines[ROOM].ids).toEqual([200]);
    expect(s.seqs[ROOM]).toEqual({ last: 6, ahead: [] });
    expect(s.rooms[ROOM].last_seq).toBe(6);
    expect(s.rooms[ROOM].unread).toBe(1);
    expect(s.rooms[ROOM].mentions).toBe(0);
  });

  it('counts a mention of me', () => {
    const m = makeMessage({ seq: 6, body: 'ping @ann please' });
    const s = applyAll(startedState(), [newMessage(m)]);
    expect(s.rooms[ROOM].mentions).toBe(1);
  });

  it('does not count my own messages', () => {
    const m = makeMessage({ seq: 6, author: authoredBy(ME), body: '@ann note to self' });
    const s = applyAll(startedState(), [newMessage(m)]);
    expect(s.rooms[ROOM].unread).toBe(0);
    expect(s.rooms[ROOM].mentions).toBe(0);
  });

  it('ignores a duplicate frame entirely', () => {
    const m = makeMessage({ seq: 6 });
    const once = applyAll(startedState(), [newMessage(m)]);
    const twice = reduce(once, frame(newMessage(m)));
    expect(twice).toBe(once);
  });

  it('does not duplicate a message already in a fetched page (new seq, same id)', () => {
    const m = makeMessage({ id: 300, seq: 6 });
    let s = startedState();
    s = reduce(s, { type: 'timeline/loaded', roomId: ROOM, mode: 'latest', messages: [m], limit: 50 });
    s = applyAll(s, [newMessage(m)]);
    expect(s.timelines[ROOM].ids).toEqual([300]);
    expect(s.rooms[ROOM].unread).toBe(0);
    expect(s.seqs[ROOM].last).toBe(6);
  });

  it('holds an event past a hole until the hole fills, then applies both in order', () => {
    const a = makeMessage({ id: 401, seq: 6 });
    const b = makeMessage({ id: 402, seq: 7 });
    const c = makeMessage({ id: 403, seq: 8 });
    let s = applyAll(startedState(), [newMessage(a), newMessage(c)]);
    expect(s.timelines[ROOM].ids).toEqual([401]);
    expect(hasGap(s.seqs[ROOM])).toBe(true);
    expect(s.seqs[ROOM]).toEqual({ last: 6, ahead: [8] });
    expect(s.held[ROOM].map((f) => f.seq)).toEqual([8]);
    // The held event arriving again is a duplicate.
    expect(reduce(s, frame(newMessage(c)))).toBe(s);
    s = applyAll(s, [newMessage(b)]);
    expect(s.timelines[ROOM].ids).toEqual([401, 402, 403]);
    expect(s.seqs[ROOM]).toEqual({ last: 8, ahead: [] });
    expect(s.held[ROOM]).toEqual([]);
    expect(s.rooms[ROOM].unread).toBe(3);
    expect(s.rooms[ROOM].last_seq).toBe(8);
  });

  it('applies an edit that overtook its message once the message arrives', () => {
    const m = makeMessage({ id: 410, seq: 6, body: 'draft' });
    const edited = { ...m, body: 'final', edited_at: '2026-01-05T10:05:00Z' };
    const s = applyAll(startedState(), [
      { type: 'message.edited', room: ROOM, seq: 7, message: edited },
      newMessage(m),
    ]);
    expect(s.messages[410].body).toBe('final');
  });

  it('does not show a message whose delete overtook it', () => {
    const m = makeMessage({ id: 411, seq: 6 });
    const s = applyAll(startedState(), [{ type: 'message.deleted', room: ROOM, seq: 7, message_id: 411 }, newMessage(m)]);
    expect(s.timelines[ROOM].ids).toEqual([]);
    expect(s.rooms[ROOM].unread).toBe(0);
  });

  it('keeps the later of two topic changes that arrive out of order', () => {
    const s = applyAll(startedState(), [
      { type: 'room.updated', seq: 7, room: { id: ROOM, topic: 'second' } },
      { type: 'room.updated', seq: 6, room: { id: ROOM, topic: 'first' } },
    ]);
    expect(s.rooms[ROOM].topic).toBe('second');
  });

  it('moves past held events on a refetch and applies the ones after it', () => {
    let s = applyAll(startedState(), [
      newMessage(makeMessage({ id: 420, seq: 7 })),
      newMessage(makeMessage({ id: 421, seq: 9 })),
    ]);
    const fetched = makeMessage({ id: 419, seq: 6 });
    const seen = makeMessage({ id: 420, seq: 7 });
    s = reduce(s, {
      type: 'room/resynced',
      room: makeRoom({ last_seq: 8, unread: 2 }),
      messages: [fetched, seen],
      limit: 50,
    });
    expect(s.seqs[ROOM]).toEqual({ last: 9, ahead: [] });
    expect(s.timelines[ROOM].ids).toEqual([419, 420, 421]);
    expect(s.rooms[ROOM].unread).toBe(3);
  });

  it('handles events arriving in reverse order', () => {
    const ms = [6, 7, 8].map((seq) => makeMessage({ id: 500 + seq, seq }));
    const s = applyAll(startedState(), [...ms].reverse().map(newMessage));
    expect(s.timelines[ROOM].ids).toEqual([506, 507, 508]);
    expect(s.seqs[ROOM]).toEqual({ last: 8, ahead: [] });
    expect(s.rooms[ROOM].unread).toBe(3);
  });

  it('ignores events for rooms I do not follow', () => {
    const s0 = startedState();
    const s = reduce(s0, frame(newMessage(makeMessage({ room: 77, seq: 1 }))));
    expect(s).toBe(s0);
  });

  it('does not append live messages to a window that does not reach the newest', () => {
    const old = makeMessage({ id: 600, seq: 3 });
    let s = startedState();
    s = reduce(s, { type: 'timeline/loaded', roomId: ROOM, mode: 'around', messages: [old], limit: 50 });
    s = applyAll(s, [newMessage(makeMessage({ id: 601, seq: 6 }))]);
    expect(s.timelines[ROOM].ids).toEqual([600]);
    expect(s.rooms[ROOM].unread).toBe(1);
    expect(s.seqs[ROOM].last).toBe(6);
  });

  it('clears the author from the typing list', () => {
    let s = reduce(startedState(), frame({ type: 'typing', room: ROOM, user_id: BOB.id }, 1000));
    expect(typingUserIds(s.typing[ROOM], 1000)).toEqual([BOB.id]);
    s = applyAll(s, [newMessage(makeMessage({ seq: 6 }))], 1100);
    expect(typingUserIds(s.typing[ROOM], 1100)).toEqual([]);
  });
});

describe('threads', () => {
  it('counts a reply on its root and lists it in the loaded thread, not in the room', () => {
    const root = makeMessage({ id: 700, seq: 6 });
    let s = applyAll(startedState(), [newMessage(root)]);
    s = reduce(s, { type: 'thread/loaded', rootId: 700, messages: [] });
    const reply = makeMessage({ id: 701, seq: 7, thread_id: 700 });
    s = applyAll(s, [newMessage(reply)]);
    expect(s.messages[700].reply_count).toBe(1);
    expect(s.threads[700].ids).toEqual([701]);
    expect(s.timelines[ROOM].ids).toEqual([700]);
  });

  it('uncounts a deleted reply', () => {
    const root = makeMessage({ id: 710, seq: 6, reply_count: 1 });
    const reply = makeMessage({ id: 711, seq: 7, thread_id: 710 });
    let s = applyAll(startedState(), [newMessage(root)]);
    s = reduce(s, { type: 'thread/loaded', rootId: 710, messages: [reply] });
    s = applyAll(s, [{ type: 'message.deleted', room: ROOM, seq: 7, message_id: 711 }]);
    expect(s.messages[710].reply_count).toBe(0);
    expect(s.threads[710].ids).toEqual([]);
    expect(s.messages[711]).toBeUndefined();
  });
});

describe('edits, deletes and reactions', () => {
  it('replaces an edited message in place', () => {
    const m = makeMessage({ id: 800, seq: 6 });
    const edited = { ...m, body: 'hello!', html: '<p>hello!</p>', edited_at: '2026-01-05T10:01:00Z' };
    const s = applyAll(startedState(), [newMessage(m), { type: 'message.edited', room: ROOM, seq: 7, message: edited }]);
    expect(s.messages[800].body).toBe('hello!');
    expect(s.messages[800].edited_at).not.toBeNull();
    expect(s.timelines[ROOM].ids).toEqual([800]);
  });

  it('does not pull an unknown edited message into the window', () => {
    const stranger = makeMessage({ id: 5, seq: 2 });
    const s = applyAll(startedState(), [{ type: 'message.edited', room: ROOM, seq: 6, message: stranger }]);
    expect(s.messages[5]).toBeUndefined();
    expect(s.timelines[ROOM].ids).toEqual([]);
    expect(s.seqs[ROOM].last).toBe(6);
  });

  it('removes a deleted message and uncounts it if unread', () => {
    const m = makeMessage({ id: 810, seq: 6, body: '@ann look' });
    let s = applyAll(startedState(), [newMessage(m)]);
    expect(s.rooms[ROOM].mentions).toBe(1);
    s = applyAll(s, [{ type: 'message.deleted', room: ROOM, seq: 7, message_id: 810 }]);
    expect(s.timelines[ROOM].ids).toEqual([]);
    expect(s.rooms[ROOM].unread).toBe(0);
    expect(s.rooms[ROOM].mentions).toBe(0);
  });

  it('adds and removes reactions idempotently per user', () => {
    const m = makeMessage({ id: 820, seq: 6 });
    const add = (seq: number, user: number): ServerFrame => ({
      type: 'reaction.added',
      room: ROOM,
      seq,
      message_id: 820,
      emoji: '👍',
      user_id: user,
    });
    let s = applyAll(startedState(), [newMessage(m), add(7, ME.id), add(8, BOB.id)]);
    expect(s.messages[820].reactions).toEqual([{ emoji: '👍', count: 2, users: [ME.id, BOB.id] }]);
    // My own local echo arrived first; the durable event for it must not count twice.
    const echo = { type: 'reaction.added', room: ROOM, message_id: 820, emoji: '👍', user_id: ME.id } as ServerFrame;
    s = applyAll(s, [echo]);
    expect(s.messages[820].reactions[0].count).toBe(2);
    s = applyAll(s, [{ type: 'reaction.removed', room: ROOM, seq: 9, message_id: 820, emoji: '👍', user_id: BOB.id }]);
    expect(s.messages[820].reactions).toEqual([{ emoji: '👍', count: 1, users: [ME.id] }]);
    s = applyAll(s, [{ type: 'reaction.removed', room: ROOM, seq: 10, message_id: 820, emoji: '👍', user_id: ME.id }]);
    expect(s.messages[820].reactions).toEqual([]);
  });
});

describe('rooms and members', () => {
  it('merges room.updated without touching my own counters', () => {
    let s = applyAll(startedState(), [newMessage(makeMessage({ seq: 6 }))]);
    s = applyAll(s, [
      {
        type: 'room.updated',
        seq: 7,
        room: { id: ROOM, name: 'ops-2', topic: 'deploys', unread: 0, joined: false, role: null },
      },
    ]);
    expect(s.rooms[ROOM]).toMatchObject({ name: 'ops-2', topic: 'deploys', unread: 1, joined: true, role: 'member' });
    expect(s.seqs[ROOM].last).toBe(7);
  });

  it('counts members joining and leaving', () => {
    const s = applyAll(startedState(), [
      { type: 'member.joined', room: ROOM, seq: 6, user_id: 50 },
      { type: 'member.joined', room: ROOM, seq: 7, user_id: 51 },
      { type: 'member.left', room: ROOM, seq: 8, user_id: 50 },
    ]);
    expect(s.rooms[ROOM].member_count).toBe(4);
  });

  it('keeps a loaded member list exact', () => {
    let s = reduce(startedState(), { type: 'members/loaded', roomId: ROOM, users: [ME, BOB] });
    s = applyAll(s, [
      { type: 'member.joined', room: ROOM, seq: 6, user_id: BOB.id },
      { type: 'member.left', room: ROOM, seq: 7, user_id: BOB.id },
    ]);
    expect(s.roomMembers[ROOM]).toEqual([ME.id]);
    expect(s.rooms[ROOM].member_count).toBe(1);
  });

  it('drops a private room when I leave it, keeps a public one as joinable', () => {
    const priv = makeRoom({ id: 11, visibility: 'private' });
    let s = startedState([makeRoom(), priv]);
    s = applyAll(s, [
      { type: 'member.left', room: 11, seq: 6, user_id: ME.id },
      { type: 'member.left', room: ROOM, seq: 6, user_id: ME.id },
    ]);
    expect(s.rooms[11]).toBeUndefined();
    expect(s.rooms[ROOM]).toMatchObject({ joined: false, unread: 0 });
    expect(s.seqs[ROOM]).toBeUndefined();
    expect(s.timelines[ROOM]).toBeUndefined();
  });

  it('adds a room from the user stream and follows its events from its last_seq', () => {
    let s = startedState();
    s = applyAll(s, [{ type: 'room.added', room: makeRoom({ id: 12, name: 'incident-1', last_seq: 3, last_read_seq: 0 }), user_seq: 4 }]);
    expect(s.rooms[12]).toMatchObject({ joined: true, name: 'incident-1' });
    expect(s.seqs[12]).toEqual({ last: 3, ahead: [] });
    expect(s.userSeq).toBe(4);
    s = applyAll(s, [newMessage(makeMessage({ room: 12, seq: 3 })), newMessage(makeMessage({ room: 12, seq: 4 }))]);
    expect(s.rooms[12].unread).toBe(1);
  });

  it('removes a room from the user stream and fails its unsent messages', () => {
    let s = startedState([makeRoom({ id: 13, visibility: 'private' })]);
    s = reduce(s, {
      type: 'send/queued',
      pending: { clientMsgId: 'c1', room: 13, body: 'x', threadId: null, createdAt: '', status: 'queued' },
    });
    s = applyAll(s, [{ type: 'room.removed', room_id: 13 }]);
    expect(s.rooms[13]).toBeUndefined();
    expect(s.pending[0]).toMatchObject({ status: 'failed' });
  });
});

describe('more room events', () => {
  it('uncounts a reply I never loaded from its root', () => {
    const root = makeMessage({ id: 720, seq: 6, reply_count: 3 });
    const s = applyAll(startedState(), [
      newMessage(root),
      { type: 'message.deleted', room: ROOM, seq: 7, message_id: 999, thread_id: 720 },
    ]);
    expect(s.messages[720].reply_count).toBe(2);
  });

  it('learns the user who joined', () => {
    const s = applyAll(startedState(), [{ type: 'member.joined', room: ROOM, seq: 6, user_id: BOB.id, user: BOB }]);
    expect(s.users[BOB.id].username).toBe('bob');
  });

  it('takes my new room role', () => {
    const s = applyAll(startedState(), [
      { type: 'member.updated', room: ROOM, seq: 6, user_id: ME.id, role: 'admin' },
      { type: 'member.updated', room: ROOM, seq: 7, user_id: BOB.id, role: 'admin' },
    ]);
    expect(s.rooms[ROOM].role).toBe('admin');
    expect(s.seqs[ROOM].last).toBe(7);
  });

  it('follows a room added with `since` from that seq', () => {
    const s = applyAll(startedState(), [
      { type: 'room.added', room: makeRoom({ id: 14, last_seq: 9 }), since: 8, user_seq: 2 },
    ]);
    expect(s.seqs[14]).toEqual({ last: 8, ahead: [] });
  });
});

describe('ephemeral frames', () => {
  it('ignores unknown frame types', () => {
    const s0 = startedState();
    expect(reduce(s0, frame({ type: 'brand.new.thing', foo: 1 } as unknown as ServerFrame))).toBe(s0);
    expect(reduce(s0, frame({ type: 'pong' }))).toBe(s0);
  });

  it('shows typing for five seconds and never for myself', () => {
    let s = reduce(startedState(), frame({ type: 'typing', room: ROOM, user_id: BOB.id }, 10_000));
    s = reduce(s, frame({ type: 'typing', room: ROOM, user_id: ME.id }, 10_000));
    expect(typingUserIds(s.typing[ROOM], 14_000)).toEqual([BOB.id]);
    expect(typingUserIds(s.typing[ROOM], 15_001)).toEqual([]);
  });

  it('tracks presence, one by one or in bulk', () => {
    let s = reduce(startedState(), frame({ type: 'presence', user_id: BOB.id, status: 'online' }));
    expect(s.presence[BOB.id]).toBe('online');
    s = reduce(s, frame({ type: 'presence', users: { [BOB.id]: 'offline', '33': 'online' } }));
    expect(s.presence).toMatchObject({ [BOB.id]: 'offline', 33: 'online' });
  });

  it('keeps bot answers only I can see, without touching seqs', () => {
    const answer = makeMessage({ id: 900, seq: 0, body: 'usage: ...' });
    const s = reduce(startedState(), frame({ type: 'message.ephemeral', room: ROOM, message: answer }));
    expect(s.ephemeral[ROOM]).toEqual([answer]);
    expect(s.seqs[ROOM].last).toBe(5);
  });

  it('completes a bot answer that leaves fields out', () => {
    const s = reduce(
      startedState(),
      frame({ type: 'message.ephemeral', room: ROOM, message: { body: 'usage: /oncall who' } as never }, 5000),
    );
    expect(s.ephemeral[ROOM][0]).toMatchObject({ body: 'usage: /oncall who', reactions: [], author: { is_bot: true } });
    expect(s.ephemeral[ROOM][0].created_at).toBe(new Date(5000).toISOString());
  });

  it('marks the room stale on resync_required', () => {
    const s = reduce(startedState(), frame({ type: 'resync_required', room: ROOM }));
    expect(s.stale[ROOM]).toBe(true);
  });

  it('goes online on ready and takes its user_seq', () => {
    let s = reduce(startedState(), { type: 'connection/changed', status: 'syncing' });
    s = reduce(s, frame({ type: 'ready', user_seq: 12 }));
    expect(s.connection).toBe('online');
    expect(s.userSeq).toBe(12);
  });
});
