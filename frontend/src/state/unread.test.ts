import { describe, expect, it } from 'vitest';
import { applyAll, authoredBy, makeMessage, makeRoom, ME, newMessage, startedState } from '../test/fixtures';
import { reduce } from './reducer';
import { mentionsMe, mentionsUser } from './unread';

const ROOM = 10;

describe('mentionsUser', () => {
  it.each([
    ['@ann hi', true],
    ['hi @Ann, look', true],
    ['(@ann)', true],
    ['@anna hi', false],
    ['mail me at x@ann.example', false],
    ['@ann-bot do it', false],
    ['ann without at', false],
  ])('%s -> %s', (body, expected) => {
    expect(mentionsUser(body, 'ann')).toBe(expected);
  });

  it('escapes regex characters in usernames', () => {
    expect(mentionsUser('hey @a.b', 'a.b')).toBe(true);
    expect(mentionsUser('hey @axb', 'a.b')).toBe(false);
  });
});

describe('mentionsMe', () => {
  it('trusts the mention marks the server put in the html', () => {
    expect(mentionsMe(makeMessage({ body: 'hi @ann' }), 'ann')).toBe(true);
    expect(mentionsMe(makeMessage({ body: 'hi @room' }), 'ann')).toBe(true);
    expect(mentionsMe(makeMessage({ body: 'hi @Everyone' }), 'ann')).toBe(true);
    expect(mentionsMe(makeMessage({ body: 'hi @bob' }), 'ann')).toBe(false);
    // In code the server leaves the name unmarked.
    expect(mentionsMe(makeMessage({ body: '`@ann`', html: '<p><code>@ann</code></p>' }), 'ann')).toBe(false);
  });

  it('falls back to the body without html', () => {
    expect(mentionsMe(makeMessage({ body: 'yo @ann', html: '' }), 'ann')).toBe(true);
    expect(mentionsMe(makeMessage({ body: 'yo @all', html: '' }), 'ann')).toBe(true);
  });
});

describe('unread counting', () => {
  const three = [6, 7, 8].map((seq) => makeMessage({ id: 100 + seq, seq, body: seq === 8 ? '@ann' : 'x' }));

  it('counts arrivals from others after my read position', () => {
    const s = applyAll(startedState(), three.map(newMessage));
    expect(s.rooms[ROOM]).toMatchObject({ unread: 3, mentions: 1 });
  });

  it('does not count messages at or before my read position', () => {
    const s = applyAll(startedState([makeRoom({ last_seq: 5, last_read_seq: 7 })]), three.map(newMessage));
    expect(s.rooms[ROOM]).toMatchObject({ unread: 1, mentions: 1 });
  });

  it('clears the counts when I read up to the newest seq', () => {
    let s = applyAll(startedState(), three.map(newMessage));
    s = reduce(s, { type: 'read/marked', roomId: ROOM, seq: 8 });
    expect(s.rooms[ROOM]).toMatchObject({ unread: 0, mentions: 0, last_read_seq: 8 });
  });

  it('subtracts what a partial read covers', () => {
    let s = applyAll(startedState(), three.map(newMessage));
    s = reduce(s, { type: 'read/marked', roomId: ROOM, seq: 7 });
    expect(s.rooms[ROOM]).toMatchObject({ unread: 1, mentions: 1, last_read_seq: 7 });
  });

  it('never moves the read position backwards', () => {
    let s = applyAll(startedState(), three.map(newMessage));
    s = reduce(s, { type: 'read/marked', roomId: ROOM, seq: 8 });
    const again = reduce(s, { type: 'read/marked', roomId: ROOM, seq: 6 });
    expect(again).toBe(s);
  });

  it('keeps my own messages out of the counts', () => {
    const s = applyAll(startedState(), [newMessage(makeMessage({ seq: 6, author: authoredBy(ME) }))]);
    expect(s.rooms[ROOM].unread).toBe(0);
  });

  it('counts thread replies as mentions but not as unread, as the server does', () => {
    const root = makeMessage({ id: 1, seq: 6 });
    const reply = makeMessage({ id: 2, seq: 7, thread_id: 1, body: '@ann in a thread' });
    let s = applyAll(startedState(), [newMessage(root), newMessage(reply)]);
    expect(s.rooms[ROOM]).toMatchObject({ unread: 1, mentions: 1 });
    s = reduce(s, { type: 'read/marked', roomId: ROOM, seq: 7 });
    expect(s.rooms[ROOM]).toMatchObject({ unread: 0, mentions: 0 });
  });

  it('takes my own message as read up to it, as the server does', () => {
    let s = applyAll(startedState(), three.map(newMessage));
    s = applyAll(s, [newMessage(makeMessage({ seq: 9, author: authoredBy(ME) }))]);
    expect(s.rooms[ROOM]).toMatchObject({ unread: 0, mentions: 0, last_read_seq: 9 });
  });

  it('follows my read position moved in another tab', () => {
    let s = applyAll(startedState(), three.map(newMessage));
    s = applyAll(s, [{ type: 'read', room: ROOM, seq: 6 }]);
    expect(s.rooms[ROOM]).toMatchObject({ unread: 2, last_read_seq: 6 });
  });
});

describe('room list refresh', () => {
  it('keeps the stream-maintained counts of rooms it follows, adds and drops rooms', () => {
    let s = applyAll(startedState([makeRoom({ id: 10 }), makeRoom({ id: 11, name: 'gone' })]), [
      newMessage(makeMessage({ seq: 6 })),
    ]);
    s = reduce(s, {
      type: 'rooms/loaded',
      rooms: [
        makeRoom({ id: 10, unread: 7, last_seq: 9, topic: 'fresh' }),
        makeRoom({ id: 12, name: 'new', unread: 2, last_seq: 4 }),
        makeRoom({ id: 13, name: 'lobby', joined: false, role: null, last_seq: 40 }),
      ],
    });
    expect(s.rooms[10]).toMatchObject({ unread: 1, topic: 'fresh' });
    expect(s.seqs[10].last).toBe(6);
    expect(s.rooms[11]).toBeUndefined();
    expect(s.seqs[11]).toBeUndefined();
    expect(s.rooms[12].unread).toBe(2);
    expect(s.seqs[12].last).toBe(4);
    expect(s.seqs[13]).toBeUndefined();
  });

  it('stops following a room the list says I left', () => {
    let s = startedState([makeRoom({ id: 10 })]);
    s = reduce(s, { type: 'rooms/loaded', rooms: [makeRoom({ id: 10, joined: false, role: null })] });
    expect(s.seqs[10]).toBeUndefined();
    expect(s.timelines[10]).toBeUndefined();
    expect(s.rooms[10].joined).toBe(false);
  });
});
