/** Shapes of the public contract (shared/API.md) as the web client sees them. */

export type SiteRole = 'owner' | 'admin' | 'member' | 'guest';
export type Presence = 'online' | 'offline';

export interface User {
  id: number;
  username: string;
  display_name: string;
  is_bot: boolean;
  role?: SiteRole;
  is_active?: boolean;
  /** IANA zone the person reads times in (theirs, else the site's). */
  timezone?: string;
  presence?: Presence;
}

export type AuthorRef = Pick<User, 'id' | 'username' | 'display_name' | 'is_bot'>;

export type Visibility = 'public' | 'private' | 'direct';

export interface Room {
  id: number;
  name: string;
  topic: string;
  visibility: Visibility;
  archived: boolean;
  joined: boolean;
  /** My role in the room, null when not a member. */
  role: 'admin' | 'member' | null;
  unread: number;
  mentions: number;
  last_seq: number;
  /** Null from the server when I am not a member; the client keeps 0 then. */
  last_read_seq: number;
  member_count: number;
  /** "admins": only room admins may post. */
  posting_policy?: 'everyone' | 'admins';
  /** For direct rooms: the people in it. */
  members?: User[];
}

export interface Reaction {
  emoji: string;
  count: number;
  users: number[];
}

export interface Message {
  id: number;
  room: number;
  seq: number;
  author: AuthorRef;
  body: string;
  /** Sanitized by the server: the only string ever inserted as HTML. */
  html: string;
  thread_id: number | null;
  reply_count: number;
  created_at: string;
  edited_at: string | null;
  reactions: Reaction[];
  client_msg_id?: string | null;
  deleted?: boolean;
  /** When it was pinned to its room; null (or absent) when it is not pinned. */
  pinned_at?: string | null;
  /** Who pinned it (a user id); null when it is not pinned. */
  pinned_by?: number | null;
}

/** One command of a bot, as GET /api/v1/bots lists it. */
export interface BotCommand {
  name: string;
  usage: string;
  description: string;
}

/** A bot and its commands (GET /api/v1/bots). */
export interface BotInfo {
  id: number;
  username: string;
  display_name: string;
  description: string;
  commands: BotCommand[];
}

/** The room of a search result: at least its id and name (API.md, Search). */
export type SearchRoom = Pick<Room, 'id' | 'name'> & Partial<Room>;

/** One hit of GET /api/v1/search. */
export interface SearchResult {
  message: Message;
  room: SearchRoom;
  /** The matched words in <mark>, everything else escaped. */
  highlight: string;
  /** The REST URL of the room around the message (the client opens its own hash route instead). */
  link?: string;
}

export interface SearchPage {
  results: SearchResult[];
  next: string | null;
  /** Sentences saying what was not searched as asked (an unknown operator searched as text, stop words). */
  hints?: string[];
}

export type SearchSort = 'relevance' | 'recent';

export interface Page<T> {
  results: T[];
  next: string | null;
  prev?: string | null;
}

/** Frames the server sends on /ws/. Unknown types are ignored. */
export type ServerFrame =
  | { type: 'ready'; user_seq?: number }
  | { type: 'pong' }
  | { type: 'ack'; client_msg_id: string; message: Message }
  | { type: 'error'; code: string; message: string; ref?: string; retry_after?: number }
  | RoomEventFrame
  | { type: 'typing'; room: number; user_id: number }
  | { type: 'presence'; user_id?: number; status?: Presence; users?: Record<string, Presence> }
  | { type: 'message.ephemeral'; room: number; message: Message }
  | { type: 'resync_required'; room: number; last_seq?: number }
  /** My read position moved in another tab. */
  | { type: 'read'; room: number; seq: number }
  | UserEventFrame;

/**
 * Durable room events: each carries its room and its per-room seq. Every
 * event names the room by id in `room`, except `room.updated`, whose `room`
 * is the updated room object itself (so its id is `room.id`).
 */
export type RoomEventFrame =
  | ({ room: number; seq: number } & (
      | { type: 'message.new'; message: Message }
      | { type: 'message.edited'; message: Message }
      | { type: 'message.deleted'; message_id: number; thread_id?: number | null }
      | { type: 'reaction.added'; message_id: number; emoji: string; user_id: number }
      | { type: 'reaction.removed'; message_id: number; emoji: string; user_id: number }
      /** `message` is the whole message after the change; `by` who pinned or unpinned it. */
      | { type: 'message.pinned'; message_id: number; message: Message; by?: AuthorRef }
      | { type: 'message.unpinned'; message_id: number; message: Message; by?: AuthorRef }
      | { type: 'member.joined'; user_id: number; user?: User }
      | { type: 'member.left'; user_id: number }
      | { type: 'member.updated'; user_id: number; role: 'admin' | 'member' }
    ))
  | { type: 'room.updated'; seq: number; room: Partial<Room> & { id: number }; room_id?: number };

/** Events on my own user stream (rooms I was added to or removed from). */
export type UserEventFrame =
  /** `since`: the room's events after this seq follow on the socket. */
  | { type: 'room.added'; room: Room; user_seq?: number; since?: number }
  | { type: 'room.removed'; room_id: number; user_seq?: number };

export type ClientFrame =
  | { type: 'resume'; rooms: Record<string, number>; user_seq?: number }
  | { type: 'message.send'; room: number; body: string; client_msg_id: string; thread_id?: number }
  | { type: 'typing'; room: number }
  | { type: 'read'; room: number; seq: number }
  | { type: 'ping' };
