import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, type Api } from '../net/api';
import { createStore } from '../state/store';
import { authoredBy, makeMessage, makeRoom, ME, newMessage } from '../test/fixtures';
import { createFakeSocket, FakeSocket } from '../test/fakeSocket';
import type { Message, Room } from '../types';
import { ACK_TIMEOUT_MS, ChatSession, GAP_GRACE_MS, READ_EVERY_MS, RESYNC_RETRY_MS } from './session';

const ROOM = 10;

function fakeApi(rooms: Room[] = [makeRoom()]) {
  const page = <T,>(results: T[]) => ({ results, next: null });
  return {
    maybeSignedIn: vi.fn(() => true),
    me: vi.fn(async () => ME),
    login: vi.fn(async () => ({ user: ME })),
    logout: vi.fn(async () => ({})),
    rooms: vi.fn(async () => page(rooms)),
    room: vi.fn(async (id: number) => rooms.find((r) => r.id === id) ?? makeRoom({ id })),
    users: vi.fn(async () => page([ME])),
    messages: vi.fn(async () => page<Message>([])),
    replies: vi.fn(async () => page<Message>([])),
    markRead: vi.fn(async () => ({})),
    addReaction: vi.fn(async () => ({})),
    removeReaction: vi.fn(async () => ({})),
    pins: vi.fn(async () => page<Message>([])),
    pin: vi.fn(async (_room: number, id: number) =>
      makeMessage({ id, seq: 6, pinned_at: '2026-01-05T11:00:00Z', pinned_by: ME.id })),
    unpin: vi.fn(async () => null),
  };
}

async function started(api = fakeApi()) {
  let n = 0;
  const session = new ChatSession({
    store: createStore(),
    api: api as unknown as Api,
    socketUrl: 'ws://test/ws/',
    createSocket: createFakeSocket,
    uuid: () => `cid-${++n}`,
    random: () => 0.5,
  });
  await session.boot();
  return { session, api, ws: FakeSocket.last };
}

function goLive(ws: FakeSocket) {
  ws.open();
  ws.receive({ type: 'ready' });
}

describe('ChatSession', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeSocket.reset();
  });
  afterEach(() => vi.useRealTimers());

  it('shows sign-in when the browser is not signed in', async () => {
    const api = fakeApi();
    api.me.mockRejectedValueOnce(new ApiError(401, 'not_authenticated', 'no'));
    const session = new ChatSession({ store: createStore(), api: api as unknown as Api, createSocket: createFakeSocket });
    expect(await session.boot()).toBe(false);
    expect(session.state.connection).toBe('signedOut');
    expect(FakeSocket.instances).toHaveLength(0);
  });

  it('does not ask the server when no csrftoken cookie says a sign-in happened', async () => {
    const api = fakeApi();
    api.maybeSignedIn.mockReturnValue(false);
    const session = new ChatSession({ store: createStore(), api: api as unknown as Api, createSocket: createFakeSocket });
    expect(await session.boot()).toBe(false);
    expect(api.me).not.toHaveBeenCalled();
    expect(session.state.connection).toBe('signedOut');
  });

  it('signs in from the sign-in page and connects', async () => {
    const api = fakeApi();
    api.maybeSignedIn.mockReturnValue(false);
    const session = new ChatSession({
      store: createStore(),
      api: api as unknown as Api,
      createSocket: createFakeSocket,
      socketUrl: 'ws://test/ws/',
    });
    await session.boot();
    await session.login('ann', 'pw');
    expect(api.login).toHaveBeenCalledWith('ann', 'pw');
    expect(session.state.me).toEqual(ME);
    expect(session.state.connection).toBe('connecting');
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it('resumes from the room list on open and goes live on ready', async () => {
    const { session, ws } = await started(fakeApi([makeRoom({ id: 10, last_seq: 5 }), makeRoom({ id: 11, last_seq: 8 })]));
    expect(session.state.connection).toBe('connecting');
    ws.open();
    expect(session.state.connection).toBe('syncing');
    expect(ws.sent).toEqual([{ type: 'resume', rooms: { '10': 5, '11': 8 } }]);
    ws.receive({ type: 'ready' });
    expect(session.state.connection).toBe('online');
  });

  it('queues messages until ready, sends each once, and settles them on ack', async () => {
    const { session, ws } = await started();
    const id = session.send(ROOM, 'written while connecting');
    expect(session.state.pending[0]).toMatchObject({ clientMsgId: id, status: 'queued' });
    ws.open();
    expect(ws.sentOfType('message.send')).toEqual([]);
    ws.receive({ type: 'ready' });
    expect(ws.sentOfType('message.send')).toEqual([
      { type: 'message.send', room: ROOM, body: 'written while connecting', client_msg_id: id },
    ]);
    expect(session.state.pending[0].status).toBe('sending');
    session.send(ROOM, 'second', 77);
    expect(ws.sentOfType('message.send')).toHaveLength(2);
    expect(ws.sentOfType('message.send')[1]).toMatchObject({ thread_id: 77, client_msg_id: 'cid-2' });
    const m = makeMessage({ id: 1, seq: 6, author: authoredBy(ME), client_msg_id: id });
    ws.receive({ type: 'ack', client_msg_id: id, message: m });
    expect(session.state.pending.map((p) => p.clientMsgId)).toEqual(['cid-2']);
  });

  it('after a drop, resumes from what it applied and re-sends unacknowledged messages once', async () => {
    const { session, ws } = await started();
    goLive(ws);
    ws.receive(newMessage(makeMessage({ id: 1, seq: 6 })));
    const id = session.send(ROOM, 'in flight');
    ws.drop(1012);
    expect(session.state.connection).toBe('reconnecting');
    expect(session.state.pending[0].status).toBe('queued');
    session.send(ROOM, 'typed offline');
    vi.advanceTimersByTime(60_000);
    const ws2 = FakeSocket.last;
    expect(ws2).not.toBe(ws);
    ws2.open();
    expect(ws2.sent[0]).toEqual({ type: 'resume', rooms: { [ROOM]: 6 } });
    // Replay while syncing: a duplicate of what we had, then a new one.
    ws2.receive(newMessage(makeMessage({ id: 1, seq: 6 })));
    ws2.receive(newMessage(makeMessage({ id: 2, seq: 7 })));
    expect(ws2.sentOfType('message.send')).toEqual([]);
    ws2.receive({ type: 'ready' });
    const sends = ws2.sentOfType('message.send');
    expect(sends.map((f) => f.body)).toEqual(['in flight', 'typed offline']);
    expect(sends[0].client_msg_id).toBe(id);
    expect(session.state.timelines[ROOM]?.ids ?? []).toEqual([]); // room never opened
    expect(session.state.seqs[ROOM].last).toBe(7);
    ws2.receive({ type: 'ready' });
    expect(ws2.sentOfType('message.send')).toHaveLength(2);
  });

  it('refreshes the room list after a reconnect', async () => {
    const { api, ws } = await started();
    goLive(ws);
    expect(api.rooms).toHaveBeenCalledTimes(1);
    ws.drop(1006);
    vi.advanceTimersByTime(60_000);
    goLive(FakeSocket.last);
    expect(api.rooms).toHaveBeenCalledTimes(2);
  });

  it('goes to sign-in on close code 4401', async () => {
    const { session, ws } = await started();
    goLive(ws);
    ws.drop(4401);
    expect(session.state.connection).toBe('signedOut');
    expect(session.state.me).toBeNull();
    vi.advanceTimersByTime(120_000);
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it('reloads a room on resync_required', async () => {
    const api = fakeApi([makeRoom({ last_seq: 5 })]);
    const { session, ws } = await started(api);
    await session.openRoom(ROOM);
    goLive(ws);
    api.room.mockResolvedValueOnce(makeRoom({ last_seq: 40, unread: 3 }));
    api.messages.mockResolvedValueOnce({ results: [makeMessage({ id: 39, seq: 39 })], next: null });
    ws.receive({ type: 'resync_required', room: ROOM });
    await vi.runOnlyPendingTimersAsync();
    expect(api.room).toHaveBeenCalledWith(ROOM);
    expect(session.state.timelines[ROOM].ids).toEqual([39]);
    expect(session.state.seqs[ROOM].last).toBe(40);
    expect(session.state.rooms[ROOM].unread).toBe(3);
    expect(session.state.stale[ROOM]).toBeUndefined();
  });

  it('retries a failed reload later, not on every state change', async () => {
    const api = fakeApi([makeRoom({ last_seq: 5 })]);
    const { session, ws } = await started(api);
    goLive(ws);
    api.room.mockRejectedValueOnce(new ApiError(502, 'http_502', 'down'));
    ws.receive({ type: 'resync_required', room: ROOM });
    await vi.advanceTimersByTimeAsync(0);
    ws.receive({ type: 'typing', room: ROOM, user_id: 2 });
    ws.receive({ type: 'typing', room: ROOM, user_id: 3 });
    expect(api.room).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(RESYNC_RETRY_MS);
    expect(api.room).toHaveBeenCalledTimes(2);
    expect(session.state.stale[ROOM]).toBeUndefined();
  });

  it('refetches a room whose seq hole does not fill in time', async () => {
    const api = fakeApi([makeRoom({ last_seq: 5 })]);
    const { session, ws } = await started(api);
    goLive(ws);
    ws.receive(newMessage(makeMessage({ seq: 7 })));
    vi.advanceTimersByTime(GAP_GRACE_MS - 1);
    expect(api.room).not.toHaveBeenCalled();
    api.room.mockResolvedValueOnce(makeRoom({ last_seq: 7 }));
    vi.advanceTimersByTime(1);
    await vi.runOnlyPendingTimersAsync();
    expect(api.room).toHaveBeenCalledTimes(1);
    expect(session.state.seqs[ROOM]).toEqual({ last: 7, ahead: [] });
  });

  it('does not refetch when the hole fills in time', async () => {
    const api = fakeApi([makeRoom({ last_seq: 5 })]);
    const { ws } = await started(api);
    goLive(ws);
    ws.receive(newMessage(makeMessage({ seq: 7 })));
    ws.receive(newMessage(makeMessage({ seq: 6 })));
    vi.advanceTimersByTime(GAP_GRACE_MS * 2);
    expect(api.room).not.toHaveBeenCalled();
  });

  it('sends typing at most every three seconds', async () => {
    const { session, ws } = await started();
    goLive(ws);
    session.notifyTyping(ROOM);
    session.notifyTyping(ROOM);
    vi.advanceTimersByTime(2999);
    session.notifyTyping(ROOM);
    expect(ws.sentOfType('typing')).toHaveLength(1);
    vi.advanceTimersByTime(1);
    session.notifyTyping(ROOM);
    expect(ws.sentOfType('typing')).toEqual([
      { type: 'typing', room: ROOM },
      { type: 'typing', room: ROOM },
    ]);
  });

  it('lets typing be sent again right after a message', async () => {
    const { session, ws } = await started();
    goLive(ws);
    session.notifyTyping(ROOM);
    session.send(ROOM, 'done');
    session.notifyTyping(ROOM);
    expect(ws.sentOfType('typing')).toHaveLength(2);
  });

  it('saves the read position at once, then at most every READ_EVERY_MS with the latest seq', async () => {
    const { session, ws } = await started(fakeApi([makeRoom({ last_seq: 5, last_read_seq: 0, unread: 5 })]));
    goLive(ws);
    session.markRead(ROOM, 2);
    session.markRead(ROOM, 3);
    session.markRead(ROOM, 4);
    expect(ws.sentOfType('read')).toEqual([{ type: 'read', room: ROOM, seq: 2 }]);
    expect(session.state.rooms[ROOM].last_read_seq).toBe(4);
    vi.advanceTimersByTime(READ_EVERY_MS);
    expect(ws.sentOfType('read')).toEqual([
      { type: 'read', room: ROOM, seq: 2 },
      { type: 'read', room: ROOM, seq: 4 },
    ]);
    session.markRoomRead(ROOM);
    vi.advanceTimersByTime(READ_EVERY_MS);
    expect(ws.sentOfType('read').at(-1)).toEqual({ type: 'read', room: ROOM, seq: 5 });
    expect(session.state.rooms[ROOM].unread).toBe(0);
  });

  it('saves the read position over REST while offline', async () => {
    const { session, api } = await started(fakeApi([makeRoom({ last_seq: 5, last_read_seq: 0 })]));
    session.markRead(ROOM, 5);
    expect(api.markRead).toHaveBeenCalledWith(ROOM, 5);
  });

  it('retries a rate-limited send after retry_after, and leaves other refusals failed', async () => {
    const { session, ws } = await started();
    goLive(ws);
    const slow = session.send(ROOM, 'too fast');
    const bad = session.send(ROOM, 'x'.repeat(5));
    ws.receive({ type: 'error', code: 'rate_limited', message: 'Slow down', ref: slow, retry_after: 3 });
    ws.receive({ type: 'error', code: 'forbidden', message: 'Archived', ref: bad });
    expect(session.state.pending.map((p) => p.status)).toEqual(['failed', 'failed']);
    vi.advanceTimersByTime(3000);
    expect(session.state.pending.map((p) => p.status)).toEqual(['sending', 'failed']);
    expect(ws.sentOfType('message.send').filter((f) => f.client_msg_id === slow)).toHaveLength(2);
  });

  it('re-sends a message whose ack never came, then gives up', async () => {
    const { session, ws } = await started();
    goLive(ws);
    const id = session.send(ROOM, 'hello?');
    vi.advanceTimersByTime(ACK_TIMEOUT_MS);
    expect(ws.sentOfType('message.send').map((f) => f.client_msg_id)).toEqual([id, id]);
    vi.advanceTimersByTime(ACK_TIMEOUT_MS);
    expect(session.state.pending[0]).toMatchObject({ status: 'failed' });
  });

  it('shows my reaction at once and does not double it when the event follows', async () => {
    const api = fakeApi();
    const { session, ws } = await started(api);
    goLive(ws);
    const m = makeMessage({ id: 5, seq: 6 });
    ws.receive(newMessage(m));
    await session.openRoom(ROOM);
    await session.toggleReaction(session.state.messages[5], '🎉');
    expect(api.addReaction).toHaveBeenCalledWith(5, '🎉');
    expect(session.state.messages[5].reactions).toEqual([{ emoji: '🎉', count: 1, users: [ME.id] }]);
    ws.receive({ type: 'reaction.added', room: ROOM, seq: 7, message_id: 5, emoji: '🎉', user_id: ME.id });
    expect(session.state.messages[5].reactions[0].count).toBe(1);
    await session.toggleReaction(session.state.messages[5], '🎉');
    expect(api.removeReaction).toHaveBeenCalledWith(5, '🎉');
    expect(session.state.messages[5].reactions).toEqual([]);
  });

  it('pins at once, keeps the list current from events, and unpins', async () => {
    const api = fakeApi();
    const { session, ws } = await started(api);
    goLive(ws);
    const m = makeMessage({ id: 5, seq: 6 });
    ws.receive(newMessage(m));
    await session.openRoom(ROOM);
    await session.loadPins(ROOM);
    expect(api.pins).toHaveBeenCalledWith(ROOM);
    expect(session.state.pins[ROOM]).toEqual([]);

    await session.togglePin(session.state.messages[5]);
    expect(api.pin).toHaveBeenCalledWith(ROOM, 5);
    expect(session.state.messages[5].pinned_by).toBe(ME.id);
    expect(session.state.pins[ROOM].map((p) => p.id)).toEqual([5]);
    // The durable event follows: nothing more changes.
    const pinnedCopy = session.state.messages[5];
    ws.receive({ type: 'message.pinned', room: ROOM, seq: 7, message_id: 5, message: pinnedCopy, by: authoredBy(ME) });
    expect(session.state.pins[ROOM]).toHaveLength(1);
    expect(session.state.seqs[ROOM].last).toBe(7);

    await session.togglePin(session.state.messages[5]);
    expect(api.unpin).toHaveBeenCalledWith(ROOM, 5);
    expect(session.state.messages[5].pinned_at).toBeNull();
    expect(session.state.pins[ROOM]).toEqual([]);
  });
});

describe('pageMore', () => {
  it('reads the cursors of a history page', async () => {
    const { pageMore } = await import('./session');
    expect(pageMore({ results: [], next: null })).toEqual({ older: false, newer: false });
    expect(pageMore({ results: [], next: null, prev: 4 as unknown as string })).toEqual({ older: true, newer: false });
    expect(pageMore({ results: [] } as unknown as Parameters<typeof pageMore>[0])).toBeUndefined();
  });
});

describe('ChatSession first page of a room', () => {
  beforeEach(() => FakeSocket.reset());

  function session(api: ReturnType<typeof fakeApi>) {
    return new ChatSession({
      store: createStore(),
      api: api as unknown as Api,
      socketUrl: 'ws://test/ws/',
      createSocket: createFakeSocket,
    });
  }

  it('asks for the room list without waiting for the profile', async () => {
    const api = fakeApi([makeRoom({ id: ROOM, last_seq: 7 })]);
    let answerMe: (u: typeof ME) => void = () => undefined;
    api.me.mockReturnValueOnce(new Promise((resolve) => (answerMe = resolve)));
    const s = session(api);
    const booted = s.boot();
    expect(api.rooms).toHaveBeenCalledTimes(1);
    answerMe(ME);
    expect(await booted).toBe(true);
    expect(s.state.rooms[ROOM]?.last_seq).toBe(7);
  });

  it('reads the newest page again when it was read before what the room list saw', async () => {
    // The page (prefetched at boot, say) was read at seq 6, the room list at 7:
    // resume starts after 7, so message 7 would never come.
    const api = fakeApi([makeRoom({ id: ROOM, last_seq: 7 })]);
    api.messages
      .mockResolvedValueOnce({ results: [makeMessage({ id: 60, seq: 6 })], next: null, last_seq: 6 } as never)
      .mockResolvedValueOnce({
        results: [makeMessage({ id: 60, seq: 6 }), makeMessage({ id: 70, seq: 7 })],
        next: null,
        last_seq: 7,
      } as never);
    const s = session(api);
    await s.boot();
    await s.openRoom(ROOM);
    expect(api.messages).toHaveBeenCalledTimes(2);
    expect(s.state.timelines[ROOM]?.ids).toEqual([60, 70]);
  });

  it('takes a page that is whole up to what the room list saw', async () => {
    const api = fakeApi([makeRoom({ id: ROOM, last_seq: 7 })]);
    api.messages.mockResolvedValueOnce({ results: [makeMessage({ id: 60, seq: 6 })], next: null, last_seq: 8 } as never);
    const s = session(api);
    await s.boot();
    await s.openRoom(ROOM);
    expect(api.messages).toHaveBeenCalledTimes(1);
    expect(s.state.timelines[ROOM]?.ids).toEqual([60]);
  });
});
