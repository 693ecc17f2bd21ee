import type { BotInfo, Message, Presence, Room, RoomEventFrame, User } from '../types';
import type { SeqTrack } from './seq';

/** A window of a room's top-level messages, contiguous, ids ascending. */
export interface Timeline {
  ids: number[];
  hasOlder: boolean;
  /** True while the window does not reach the newest message (after a jump). */
  hasNewer: boolean;
  /**
   * Counts the windows loaded around a message (jumps): each one replaces the
   * list shown, even where it overlaps the window before it.
   */
  jump?: number;
}

export interface ThreadView {
  ids: number[];
  loaded: boolean;
}

export type SendStatus = 'queued' | 'sending' | 'failed';

/** A message I wrote that the server has not acknowledged yet. */
export interface PendingSend {
  clientMsgId: string;
  room: number;
  body: string;
  threadId: number | null;
  createdAt: string;
  status: SendStatus;
  error?: string;
}

/**
 * connecting: first connection of this page; syncing: socket open, resume sent,
 * waiting for `ready`; online: live; reconnecting: lost, retrying;
 * signedOut: the server closed with 4401.
 */
export type ConnectionStatus = 'connecting' | 'syncing' | 'online' | 'reconnecting' | 'signedOut';

export interface ChatState {
  me: User | null;
  users: Record<number, User>;
  presence: Record<number, Presence>;
  rooms: Record<number, Room>;
  /** Member ids of rooms whose member list was loaded. */
  roomMembers: Record<number, number[]>;
  messages: Record<number, Message>;
  timelines: Record<number, Timeline>;
  threads: Record<number, ThreadView>;
  /** Bot answers only I can see, per room; never stored by the server. */
  ephemeral: Record<number, Message[]>;
  seqs: Record<number, SeqTrack>;
  /** Room events that arrived past a hole in their room's seqs, waiting for it to fill. */
  held: Record<number, RoomEventFrame[]>;
  userSeq: number | null;
  /** Rooms the server asked us to reload (resync_required). */
  stale: Record<number, true>;
  pending: PendingSend[];
  /** room -> user -> time (ms) until which "is typing" shows. */
  typing: Record<number, Record<number, number>>;
  connection: ConnectionStatus;
  /** The bot catalogue for /command suggestions; null until loaded. */
  bots: BotInfo[] | null;
  /**
   * Pinned messages of the rooms whose pins were loaded (GET /rooms/{id}/pins),
   * most recently pinned first; kept current by pin, unpin, edit and delete events.
   * A room missing here has not been loaded (or must be loaded again).
   */
  pins: Record<number, Message[]>;
}

export const initialState: ChatState = {
  me: null,
  users: {},
  presence: {},
  rooms: {},
  roomMembers: {},
  messages: {},
  timelines: {},
  threads: {},
  ephemeral: {},
  seqs: {},
  held: {},
  userSeq: null,
  stale: {},
  pending: [],
  typing: {},
  connection: 'connecting',
  bots: null,
  pins: {},
};
