/** Room list bookkeeping: loading, membership changes, shared updates. */
import type { Room } from '../types';
import type { ChatState } from './model';
import { fastForward, newTrack } from './seq';
import { forgetRoomMessages } from './timeline';

/** Fields that are mine, not the room's: a broadcast `room.updated` never sets them. */
const PERSONAL_FIELDS = ['joined', 'role', 'unread', 'mentions', 'last_seq', 'last_read_seq'] as const;

/** Fill what the server leaves out or null (non-members have no read position). */
export function normalizeRoom(room: Room): Room {
  return {
    ...room,
    topic: room.topic ?? '',
    unread: room.unread ?? 0,
    mentions: room.mentions ?? 0,
    last_seq: room.last_seq ?? 0,
    last_read_seq: room.last_read_seq ?? 0,
    member_count: room.member_count ?? 0,
  };
}

/**
 * Take a room as the server describes it. For a room whose events I already
 * track, my counters stay as the event stream made them: the fetched numbers
 * may already include events that are still on their way to me, and counting
 * those again would double them.
 */
function adopt(state: ChatState, fresh: Room): Room {
  const room = normalizeRoom(fresh);
  const known = state.rooms[room.id];
  if (!known || !state.seqs[room.id] || !room.joined) return room;
  return {
    ...room,
    unread: known.unread,
    mentions: known.mentions,
    last_read_seq: Math.max(known.last_read_seq, room.last_read_seq ?? 0),
    last_seq: Math.max(known.last_seq, room.last_seq ?? 0),
  };
}

function trackJoined(seqs: ChatState['seqs'], room: Room): ChatState['seqs'] {
  if (!room.joined || seqs[room.id]) return seqs;
  return { ...seqs, [room.id]: newTrack(room.last_seq) };
}

/** Replace the room list with a fresh GET /rooms answer. */
export function loadRooms(state: ChatState, list: Room[]): ChatState {
  const listed = new Map(list.map((r) => [r.id, r]));
  let next = state;
  for (const id of Object.keys(state.seqs).map(Number)) {
    if (!listed.get(id)?.joined) next = dropMembership(next, id);
  }
  const rooms: Record<number, Room> = {};
  let seqs = next.seqs;
  for (const room of list) {
    rooms[room.id] = adopt(next, room);
    seqs = trackJoined(seqs, room);
  }
  return { ...next, rooms, seqs };
}

/** Take one room from a REST answer (create, join, fetch, settings change). */
export function upsertRoom(state: ChatState, room: Room): ChatState {
  const next = !room.joined && state.seqs[room.id] ? dropMembership(state, room.id) : state;
  return {
    ...next,
    rooms: { ...next.rooms, [room.id]: adopt(next, room) },
    seqs: trackJoined(next.seqs, room),
  };
}

/**
 * A room I was added to (user stream `room.added`); its events after
 * `since` (default: its last_seq) follow on the socket.
 */
export function addRoom(state: ChatState, room: Room, since?: number): ChatState {
  const joined: Room = { ...room, joined: true, role: room.role ?? 'member' };
  const from = since ?? room.last_seq ?? 0;
  const track = state.seqs[room.id];
  const known = state.rooms[room.id];
  const kept = known ? { ...joined, member_count: joined.member_count ?? known.member_count, members: joined.members ?? known.members } : joined;
  return {
    ...state,
    rooms: { ...state.rooms, [room.id]: adopt(state, kept) },
    seqs: { ...state.seqs, [room.id]: track ? fastForward(track, from) : newTrack(from) },
  };
}

/** Merge a broadcast `room.updated`, leaving my personal fields alone. */
export function updateRoom(state: ChatState, roomId: number, patch: Partial<Room>): ChatState {
  const room = state.rooms[roomId];
  if (!room) return state;
  const shared: Partial<Room> = { ...patch };
  for (const f of PERSONAL_FIELDS) delete shared[f];
  delete shared.id;
  return { ...state, rooms: { ...state.rooms, [roomId]: { ...room, ...shared } } };
}

/**
 * I am no longer in the room: stop tracking it, drop what was loaded and
 * fail its unsent messages. A public room stays listed as joinable.
 */
export function leaveRoom(state: ChatState, roomId: number): ChatState {
  const room = state.rooms[roomId];
  if (!room) return state;
  if (room.visibility === 'public' && !room.archived) {
    const next = dropMembership(state, roomId);
    const left: Room = { ...room, joined: false, role: null, unread: 0, mentions: 0 };
    return { ...next, rooms: { ...next.rooms, [roomId]: left } };
  }
  return removeRoom(state, roomId);
}

function removeRoom(state: ChatState, roomId: number): ChatState {
  const next = dropMembership(state, roomId);
  const rooms = { ...next.rooms };
  delete rooms[roomId];
  return { ...next, rooms };
}

function dropMembership(state: ChatState, roomId: number): ChatState {
  const next = forgetRoomMessages(state, roomId);
  const without = <T,>(rec: Record<number, T>): Record<number, T> => {
    if (!(roomId in rec)) return rec;
    const copy = { ...rec };
    delete copy[roomId];
    return copy;
  };
  return {
    ...next,
    seqs: without(next.seqs),
    held: without(next.held),
    roomMembers: without(next.roomMembers),
    ephemeral: without(next.ephemeral),
    typing: without(next.typing),
    stale: without(next.stale),
    pins: without(next.pins),
    pending: next.pending.map((p) =>
      p.room === roomId && p.status !== 'failed'
        ? { ...p, status: 'failed' as const, error: 'You are no longer in this room.' }
        : p,
    ),
  };
}
