/** Builders for tests: users, rooms, messages, frames and a started state. */
import type { ChatState } from '../state/model';
import { initialState } from '../state/model';
import { reduce } from '../state/reducer';
import type { Message, Room, ServerFrame, User } from '../types';

export const ME: User = { id: 1, username: 'ann', display_name: 'Ann', is_bot: false, role: 'member', is_active: true };
export const BOB: User = { id: 2, username: 'bob', display_name: 'Bob', is_bot: false, role: 'member', is_active: true };
export const BOT: User = { id: 9, username: 'oncall', display_name: 'On-call', is_bot: true, role: 'member', is_active: true };

export function makeRoom(over: Partial<Room> = {}): Room {
  return {
    id: 10,
    name: 'ops',
    topic: '',
    visibility: 'public',
    archived: false,
    joined: true,
    role: 'member',
    unread: 0,
    mentions: 0,
    last_seq: 5,
    last_read_seq: 5,
    member_count: 3,
    ...over,
  };
}

let nextId = 100;

/** What the server would render: a paragraph, mentions marked (no code handling here). */
export function renderHtml(body: string): string {
  const text = body.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<p>${text.replace(/(^|[^\w@])@([\w.-]+)/g, '$1<span class="mention">@$2</span>')}</p>`;
}

export function makeMessage(over: Partial<Message> = {}): Message {
  const id = over.id ?? nextId++;
  const body = over.body ?? 'hello';
  return {
    id,
    room: 10,
    seq: 6,
    author: { id: BOB.id, username: BOB.username, display_name: BOB.display_name, is_bot: false },
    body,
    html: over.html ?? renderHtml(body),
    thread_id: null,
    reply_count: 0,
    created_at: '2026-01-05T10:00:00Z',
    edited_at: null,
    reactions: [],
    ...over,
  };
}

export function authoredBy(user: User) {
  return { id: user.id, username: user.username, display_name: user.display_name, is_bot: user.is_bot };
}

export function frame(f: ServerFrame, now = 0) {
  return { type: 'server/frame' as const, frame: f, now };
}

export function newMessage(message: Message): ServerFrame {
  return { type: 'message.new', room: message.room, seq: message.seq, message };
}

/** A signed-in state with the given rooms; the first room's newest page loaded (empty). */
export function startedState(rooms: Room[] = [makeRoom()], loadTimeline = true): ChatState {
  let s = reduce(initialState, { type: 'session/started', me: ME, rooms });
  if (loadTimeline && rooms.length) {
    s = reduce(s, { type: 'timeline/loaded', roomId: rooms[0].id, mode: 'latest', messages: [], limit: 50 });
  }
  return reduce(s, { type: 'connection/changed', status: 'online' });
}

export function applyAll(state: ChatState, frames: ServerFrame[], now = 0): ChatState {
  return frames.reduce((s, f) => reduce(s, frame(f, now)), state);
}
