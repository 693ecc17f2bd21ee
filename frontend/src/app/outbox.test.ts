import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Api } from '../net/api';
import { createPending } from '../state/pending';
import { createStore } from '../state/store';
import { createFakeSocket, FakeSocket } from '../test/fakeSocket';
import { authoredBy, makeMessage, makeRoom, ME } from '../test/fixtures';
import type { Message, Room } from '../types';
import { createOutbox, type KeyValueStorage } from './outbox';
import { ChatSession } from './session';

const ROOM = 10;

/** localStorage as a Map, shared by every "page" of a test like the real one. */
function memoryStorage(): KeyValueStorage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (k) => data.get(k) ?? null,
    setItem: (k, v) => void data.set(k, v),
    removeItem: (k) => void data.delete(k),
  };
}

const pending = (clientMsgId: string, body = 'hi', room = ROOM) =>
  createPending({ clientMsgId, room, body, now: new Date('2026-01-05T10:00:00Z') });

describe('outbox storage', () => {
  it('keeps each user apart and brings an in-flight send back as queued', () => {
    const storage = memoryStorage();
    const box = createOutbox(storage);
    box.save(1, [], [{ ...pending('a'), status: 'sending' }, { ...pending('b'), status: 'failed', error: 'nope' }]);
    box.save(2, [], [pending('c')]);
    expect(box.load(1).map((p) => [p.clientMsgId, p.status])).toEqual([
      ['a', 'queued'],
      ['b', 'failed'],
    ]);
    expect(box.load(1)[1].error).toBe('nope');
    expect(box.load(2).map((p) => p.clientMsgId)).toEqual(['c']);
    box.clear(1);
    expect(box.load(1)).toEqual([]);
    expect(box.load(2)).toHaveLength(1);
  });

  it('writes only its own changes: another tab\'s unsent messages survive', () => {
    const storage = memoryStorage();
    const tabA = createOutbox(storage);
    const tabB = createOutbox(storage);
    tabA.save(1, [], [pending('a1')]);
    tabB.save(1, [], [pending('b1')]);
    expect(tabA.load(1).map((p) => p.clientMsgId)).toEqual(['a1', 'b1']);
    // Tab A's message is acknowledged: A removes it, B's stays.
    tabA.save(1, [pending('a1')], []);
    expect(tabB.load(1).map((p) => p.clientMsgId)).toEqual(['b1']);
    // The last one gone leaves no key behind.
    tabB.save(1, [pending('b1')], []);
    expect(storage.data.size).toBe(0);
  });

  it('ignores what it cannot read', () => {
    const storage = memoryStorage();
    storage.setItem('chat.outbox.v1.1', '{not json');
    expect(createOutbox(storage).load(1)).toEqual([]);
    storage.setItem('chat.outbox.v1.1', JSON.stringify([{ clientMsgId: 'x' }, pending('ok'), 'junk']));
    expect(createOutbox(storage).load(1).map((p) => p.clientMsgId)).toEqual(['ok']);
    const broken: KeyValueStorage = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('full');
      },
      removeItem: () => undefined,
    };
    const box = createOutbox(broken);
    expect(box.load(1)).toEqual([]);
    expect(() => box.save(1, [], [pending('a')])).not.toThrow();
    expect(createOutbox(null).load(1)).toEqual([]);
  });
});

describe('unsent messages across a reload', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeSocket.reset();
  });
  afterEach(() => vi.useRealTimers());

  function fakeApi(rooms: Room[] = [makeRoom()]) {
    const page = <T,>(results: T[]) => ({ results, next: null });
    return {
      maybeSignedIn: vi.fn(() => true),
      me: vi.fn(async () => ME),
      logout: vi.fn(async () => ({})),
      rooms: vi.fn(async () => page(rooms)),
      users: vi.fn(async () => page([ME])),
      messages: vi.fn(async () => page<Message>([])),
    };
  }

  /** One page load: a new store and session over the same storage. */
  async function loadPage(storage: KeyValueStorage, uuidPrefix: string, rooms?: Room[]) {
    let n = 0;
    const api = fakeApi(rooms);
    const session = new ChatSession({
      store: createStore(),
      api: api as unknown as Api,
      socketUrl: 'ws://test/ws/',
      createSocket: createFakeSocket,
      uuid: () => `${uuidPrefix}-${++n}`,
      random: () => 0.5,
      outbox: createOutbox(storage),
    });
    await session.boot();
    return { session, api, ws: FakeSocket.last };
  }

  it('sends a message typed offline exactly once after a reload, with the same client_msg_id', async () => {
    const storage = memoryStorage();
    // Page 1: the socket never comes up; the user sends twice.
    const first = await loadPage(storage, 'p1');
    const id1 = first.session.send(ROOM, 'typed offline');
    const id2 = first.session.send(ROOM, 'and again');
    expect(first.ws.sent).toEqual([]);
    first.session.end(); // the page goes away (no sign-out)

    // Page 2: the queue is back before the socket is live, shown as pending.
    const second = await loadPage(storage, 'p2');
    expect(second.session.state.pending.map((p) => [p.clientMsgId, p.status, p.body])).toEqual([
      [id1, 'queued', 'typed offline'],
      [id2, 'queued', 'and again'],
    ]);
    second.ws.open();
    expect(second.ws.sentOfType('message.send')).toEqual([]);
    second.ws.receive({ type: 'ready' });
    const sends = second.ws.sentOfType('message.send');
    expect(sends).toEqual([
      { type: 'message.send', room: ROOM, body: 'typed offline', client_msg_id: id1 },
      { type: 'message.send', room: ROOM, body: 'and again', client_msg_id: id2 },
    ]);
    // Acknowledged: gone from memory and from storage.
    second.ws.receive({
      type: 'ack',
      client_msg_id: id1,
      message: makeMessage({ id: 1, seq: 6, body: 'typed offline', author: authoredBy(ME), client_msg_id: id1 }),
    });
    expect(second.session.state.pending.map((p) => p.clientMsgId)).toEqual([id2]);
    second.ws.receive({
      type: 'ack',
      client_msg_id: id2,
      message: makeMessage({ id: 2, seq: 7, body: 'and again', author: authoredBy(ME), client_msg_id: id2 }),
    });
    expect(second.session.state.pending).toEqual([]);
    second.session.end();

    // Page 3: nothing left to send.
    const third = await loadPage(storage, 'p3');
    expect(third.session.state.pending).toEqual([]);
    third.ws.open();
    third.ws.receive({ type: 'ready' });
    expect(third.ws.sentOfType('message.send')).toEqual([]);
  });

  it('re-sends a message whose ack was lost in the reload under its first id', async () => {
    const storage = memoryStorage();
    const first = await loadPage(storage, 'p1');
    first.ws.open();
    first.ws.receive({ type: 'ready' });
    const id = first.session.send(ROOM, 'in flight');
    expect(first.session.state.pending[0].status).toBe('sending');
    first.session.end();

    const second = await loadPage(storage, 'p2');
    second.ws.open();
    second.ws.receive({ type: 'ready' });
    expect(second.ws.sentOfType('message.send').map((f) => f.client_msg_id)).toEqual([id]);
  });

  it('drops stored messages for rooms I left, and signing out forgets the rest', async () => {
    const storage = memoryStorage();
    const first = await loadPage(storage, 'p1', [makeRoom(), makeRoom({ id: 11, name: 'gone' })]);
    first.session.send(ROOM, 'stays');
    first.session.send(11, 'room left');
    first.session.end();

    const second = await loadPage(storage, 'p2', [makeRoom()]);
    expect(second.session.state.pending.map((p) => p.body)).toEqual(['stays']);
    expect(createOutbox(storage).load(ME.id).map((p) => p.body)).toEqual(['stays']);
    await second.session.logout();
    expect(createOutbox(storage).load(ME.id)).toEqual([]);
  });
});
