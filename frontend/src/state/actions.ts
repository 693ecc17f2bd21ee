import type { BotInfo, Message, Room, ServerFrame, User } from '../types';
import type { ConnectionStatus, PendingSend } from './model';

export type PageMode = 'latest' | 'older' | 'newer' | 'around';

/** Whether there is history beyond a page, each way. */
export interface PageMore {
  older: boolean;
  newer: boolean;
}

/** Everything that changes the client state: server frames and local happenings. */
export type Action =
  | { type: 'session/started'; me: User; rooms: Room[]; userSeq?: number | null }
  | { type: 'session/ended' }
  | { type: 'me/updated'; me: User }
  | { type: 'rooms/loaded'; rooms: Room[] }
  | { type: 'room/upserted'; room: Room }
  | { type: 'room/forgotten'; roomId: number }
  | { type: 'users/loaded'; users: User[] }
  | { type: 'members/loaded'; roomId: number; users: User[] }
  | {
      type: 'timeline/loaded';
      roomId: number;
      mode: PageMode;
      messages: Message[];
      limit: number;
      /** From the page's prev/next cursors when the server gives them. */
      more?: PageMore;
    }
  | { type: 'thread/loaded'; rootId: number; messages: Message[] }
  | { type: 'room/resynced'; room: Room; messages: Message[] | null; limit: number; more?: PageMore }
  | { type: 'message/upserted'; message: Message }
  | { type: 'message/removed'; messageId: number }
  | { type: 'server/frame'; frame: ServerFrame; now: number }
  | { type: 'send/queued'; pending: PendingSend }
  /** Unsent messages brought back from an earlier page (outbox). */
  | { type: 'send/restored'; pending: PendingSend[] }
  | { type: 'send/started'; clientMsgIds: string[] }
  | { type: 'send/failed'; clientMsgId: string; error: string }
  | { type: 'send/retried'; clientMsgId: string }
  | { type: 'send/discarded'; clientMsgId: string }
  | { type: 'read/marked'; roomId: number; seq: number }
  | { type: 'connection/changed'; status: ConnectionStatus }
  | { type: 'bots/loaded'; bots: BotInfo[] }
  /** A room's pinned messages as GET /rooms/{id}/pins answered. */
  | { type: 'pins/loaded'; roomId: number; messages: Message[] };
