/**
 * Unread and mention counting between server refreshes. The server's counts
 * (GET /rooms) are the truth; these rules follow the server's (docs/api.md:
 * unread = top-level messages by others after my read position; mentions =
 * unread messages, replies included, naming me or @room/@all/@everyone) so
 * the sidebar stays right while events stream in, with no refetch per message.
 */
import type { Message, Room, User } from '../types';

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Names that mention everyone in the room. */
const ROOM_WIDE = ['room', 'all', 'everyone'];

/** Tell whether `body` mentions `@username` as a whole word. */
export function mentionsUser(body: string, username: string): boolean {
  if (!username) return false;
  const re = new RegExp(`(^|[^\\w@])@${escapeRe(username)}(?![\\w-])`, 'i');
  return re.test(body);
}

/**
 * Tell whether a message mentions me. The server marks real mentions (of
 * members, outside code) as <span class="mention">@name</span> in the html;
 * without html, fall back to the body.
 */
export function mentionsMe(message: Message, username: string): boolean {
  const names = [username.toLowerCase(), ...ROOM_WIDE];
  if (message.html) {
    for (const m of message.html.matchAll(/<span class="mention">@([^<]+)<\/span>/g)) {
      if (names.includes(m[1].toLowerCase())) return true;
    }
    return false;
  }
  return names.some((n) => mentionsUser(message.body, n));
}

function isUnreadFor(room: Room, message: Message, me: User | null): boolean {
  return !!me && message.author.id !== me.id && message.seq > room.last_read_seq;
}

/** As the server counts: unread are top-level messages; mentions count in threads too. */
function weigh(room: Room, message: Message, me: User | null): { unread: number; mentions: number } {
  if (!isUnreadFor(room, message, me)) return { unread: 0, mentions: 0 };
  return {
    unread: message.thread_id == null ? 1 : 0,
    mentions: mentionsMe(message, me!.username) ? 1 : 0,
  };
}

/** Count a newly arrived message. */
export function countArrival(room: Room, message: Message, me: User | null): Room {
  const w = weigh(room, message, me);
  if (!w.unread && !w.mentions) return room;
  return { ...room, unread: room.unread + w.unread, mentions: room.mentions + w.mentions };
}

/** Uncount a message that was deleted while still unread. */
export function countRemoval(room: Room, message: Message, me: User | null): Room {
  const w = weigh(room, message, me);
  if (!w.unread && !w.mentions) return room;
  return {
    ...room,
    unread: Math.max(0, room.unread - w.unread),
    mentions: Math.max(0, room.mentions - w.mentions),
  };
}

/**
 * Move my read position to `seq`. Reading up to the newest applied seq clears
 * the counts; a partial read subtracts the loaded messages it covers.
 */
export function countRead(
  room: Room,
  seq: number,
  newestSeq: number,
  roomMessages: Message[],
  me: User | null,
): Room {
  if (seq <= room.last_read_seq) return room;
  if (seq >= newestSeq) return { ...room, last_read_seq: seq, unread: 0, mentions: 0 };
  let unread = room.unread;
  let mentions = room.mentions;
  for (const m of roomMessages) {
    if (m.seq <= seq) {
      const w = weigh(room, m, me);
      unread -= w.unread;
      mentions -= w.mentions;
    }
  }
  return { ...room, last_read_seq: seq, unread: Math.max(0, unread), mentions: Math.max(0, mentions) };
}
