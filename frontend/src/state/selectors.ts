/** Read-only views of the state used by the UI. */
import type { Message, Room, User } from '../types';
import type { ChatState, PendingSend } from './model';

export function isSiteAdmin(user: User | null | undefined): boolean {
  return !!user && (user.role === 'owner' || user.role === 'admin');
}

export function canManageRoom(me: User | null, room: Room | undefined): boolean {
  if (!room || room.visibility === 'direct') return false;
  return room.role === 'admin' || isSiteAdmin(me);
}

/** What the server allows (check_post): a member, room not archived, posting policy met. */
export function canPost(me: User | null, room: Room | undefined): boolean {
  if (!room || !room.joined || room.archived) return false;
  return room.posting_policy !== 'admins' || room.role === 'admin' || isSiteAdmin(me);
}

/** Pinning follows the posting rules (the server's check_pin is check_post). */
export const canPin = canPost;

export function canModifyMessage(me: User | null, message: Message): boolean {
  return !!me && (message.author.id === me.id || isSiteAdmin(me));
}

/** The other people of a direct room (everyone when I talk to myself). */
export function dmPartners(room: Room, me: User | null): User[] {
  const members = room.members ?? [];
  const others = members.filter((u) => u.id !== me?.id);
  return others.length ? others : members;
}

export function roomTitle(room: Room, me: User | null): string {
  if (room.visibility === 'direct') {
    const names = dmPartners(room, me).map((u) => u.display_name || u.username);
    if (names.length) return names.join(', ');
  }
  return room.name || `room ${room.id}`;
}

const byTitle = (me: User | null) => (a: Room, b: Room) =>
  roomTitle(a, me).localeCompare(roomTitle(b, me), undefined, { sensitivity: 'base' });

/** Joined rooms for the sidebar: channels, then direct messages. */
export function sidebarRooms(rooms: Record<number, Room>, me: User | null): { channels: Room[]; directs: Room[] } {
  const joined = Object.values(rooms).filter((r) => r.joined);
  return {
    channels: joined.filter((r) => r.visibility !== 'direct').sort(byTitle(me)),
    directs: joined.filter((r) => r.visibility === 'direct').sort(byTitle(me)),
  };
}

/** The order Alt+Up/Down walks through. */
export function roomOrder(state: ChatState): number[] {
  const { channels, directs } = sidebarRooms(state.rooms, state.me);
  return [...channels, ...directs].map((r) => r.id);
}

export function joinableRooms(rooms: Record<number, Room>): Room[] {
  return Object.values(rooms)
    .filter((r) => !r.joined && r.visibility === 'public' && !r.archived)
    .sort(byTitle(null));
}

export type Entry =
  | { kind: 'message'; key: string; message: Message }
  | { kind: 'ephemeral'; key: string; message: Message }
  | { kind: 'pending'; key: string; pending: PendingSend };

/** What a room's list shows: its loaded messages, then bot answers only I see, then my unsent ones. */
export function roomEntries(
  ids: number[],
  messages: Record<number, Message>,
  ephemeral: Message[] | undefined,
  pending: PendingSend[],
  roomId: number,
  showTail: boolean,
): Entry[] {
  const entries: Entry[] = [];
  for (const id of ids) {
    const message = messages[id];
    if (message) entries.push({ kind: 'message', key: `m${id}`, message });
  }
  if (!showTail) return entries;
  (ephemeral ?? []).forEach((message, i) => {
    if (message.thread_id == null) entries.push({ kind: 'ephemeral', key: `e${i}-${message.id}`, message });
  });
  for (const p of pending) {
    if (p.room === roomId && p.threadId == null) entries.push({ kind: 'pending', key: `p${p.clientMsgId}`, pending: p });
  }
  return entries;
}

/** A thread: its replies, bot answers in it, my unsent replies. */
export function threadEntries(
  rootId: number,
  ids: number[],
  messages: Record<number, Message>,
  ephemeral: Message[] | undefined,
  pending: PendingSend[],
): Entry[] {
  const entries: Entry[] = [];
  for (const id of ids) {
    const message = messages[id];
    if (message) entries.push({ kind: 'message', key: `m${id}`, message });
  }
  (ephemeral ?? []).forEach((message, i) => {
    if (message.thread_id === rootId) entries.push({ kind: 'ephemeral', key: `e${i}-${message.id}`, message });
  });
  for (const p of pending) {
    if (p.threadId === rootId) entries.push({ kind: 'pending', key: `p${p.clientMsgId}`, pending: p });
  }
  return entries;
}

export function typingUserIds(typing: Record<number, number> | undefined, now: number): number[] {
  if (!typing) return [];
  return Object.entries(typing)
    .filter(([, until]) => until > now)
    .map(([id]) => Number(id));
}

/** Total unread across joined rooms, for the page title. */
export function totalUnread(state: ChatState): number {
  return Object.values(state.rooms).reduce((n, r) => n + (r.joined ? r.unread : 0), 0);
}
