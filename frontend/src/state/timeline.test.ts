import { describe, expect, it } from 'vitest';
import { makeMessage, startedState } from '../test/fixtures';
import type { ChatState } from './model';
import { reduce } from './reducer';

const ROOM = 10;
const page = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => makeMessage({ id: from + i, seq: from + i }));

describe('history pages', () => {
  it('a full newest page means there is older history', () => {
    const s = reduce(startedState(undefined, false), { type: 'timeline/loaded', roomId: ROOM, mode: 'latest', messages: page(51, 100), limit: 50 });
    expect(s.timelines[ROOM]).toMatchObject({ hasOlder: true, hasNewer: false });
    expect(s.timelines[ROOM].ids).toHaveLength(50);
  });

  it('prepends older pages and stops at a short one', () => {
    let s = reduce(startedState(undefined, false), {
      type: 'timeline/loaded',
      roomId: ROOM,
      mode: 'latest',
      messages: page(51, 100),
      limit: 50,
    });
    s = reduce(s, { type: 'timeline/loaded', roomId: ROOM, mode: 'older', messages: page(31, 50), limit: 50 });
    expect(s.timelines[ROOM].ids[0]).toBe(31);
    expect(s.timelines[ROOM].ids).toHaveLength(70);
    expect(s.timelines[ROOM].hasOlder).toBe(false);
  });

  it('a page around a message leaves both directions open, newer pages close the gap', () => {
    let s = reduce(startedState(undefined, false), {
      type: 'timeline/loaded',
      roomId: ROOM,
      mode: 'around',
      messages: page(10, 20),
      limit: 50,
    });
    expect(s.timelines[ROOM]).toMatchObject({ hasOlder: true, hasNewer: true });
    s = reduce(s, { type: 'timeline/loaded', roomId: ROOM, mode: 'newer', messages: page(21, 25), limit: 50 });
    expect(s.timelines[ROOM].hasNewer).toBe(false);
    expect(s.timelines[ROOM].ids.at(-1)).toBe(25);
  });

  it('counts each window loaded around a message as a new jump, also where it overlaps', () => {
    const load = (st: ChatState, mode: 'latest' | 'around' | 'older' | 'newer', from: number, to: number) =>
      reduce(st, { type: 'timeline/loaded', roomId: ROOM, mode, messages: page(from, to), limit: 50 });
    let s = load(startedState(undefined, false), 'latest', 13, 62);
    expect(s.timelines[ROOM].jump).toBeUndefined();
    s = load(s, 'around', 1, 50); // a pin a page back: the windows overlap
    expect(s.timelines[ROOM].jump).toBe(1);
    s = load(s, 'newer', 51, 62);
    expect(s.timelines[ROOM].jump).toBe(1); // paging is the same list
    s = load(s, 'around', 1, 50);
    expect(s.timelines[ROOM].jump).toBe(2);
  });

  it('merges overlapping pages without duplicates', () => {
    let s = reduce(startedState(undefined, false), {
      type: 'timeline/loaded',
      roomId: ROOM,
      mode: 'latest',
      messages: page(5, 10),
      limit: 50,
    });
    s = reduce(s, { type: 'timeline/loaded', roomId: ROOM, mode: 'older', messages: page(1, 7), limit: 50 });
    expect(s.timelines[ROOM].ids).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});

describe('history cursors', () => {
  it('trust prev/next over the page length when the server sends them', () => {
    let s = reduce(startedState(undefined, false), {
      type: 'timeline/loaded',
      roomId: ROOM,
      mode: 'latest',
      messages: page(1, 10),
      limit: 10,
      more: { older: false, newer: false },
    });
    expect(s.timelines[ROOM].hasOlder).toBe(false);
    s = reduce(s, {
      type: 'timeline/loaded',
      roomId: ROOM,
      mode: 'around',
      messages: page(3, 5),
      limit: 10,
      more: { older: true, newer: false },
    });
    expect(s.timelines[ROOM]).toMatchObject({ hasOlder: true, hasNewer: false });
  });
});
