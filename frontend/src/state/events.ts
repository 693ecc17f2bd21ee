/** Apply server frames (room events, user events, ephemeral frames) to the state. */
import type { Message, Presence, RoomEventFrame, ServerFrame } from '../types';
import type { ChatState } from './model';
import { markFailed, removePending } from './pending';
import { withReaction, withoutReaction } from './reactions';
import { applyPinChange, dropPinned, refreshPinned } from './pins';
import { addRoom, leaveRoom, updateRoom } from './rooms';
import { judgeSeq, recordSeq } from './seq';
import { bumpReplyCount, dropMessage, placeMessage, replaceMessage, roomMessages } from './timeline';
import { countArrival, countRead, countRemoval } from './unread';

/** How long "x is typing" shows after a typing frame. */
export const TYPING_SHOW_MS = 5000;
const EPHEMERAL_KEEP = 20;

const ROOM_EVENTS = new Set([
  'message.new',
  'message.edited',
  'message.deleted',
  'reaction.added',
  'reaction.removed',
  'message.pinned',
  'message.unpinned',
  'member.joined',
  'member.left',
  'member.updated',
  'room.updated',
]);

export function applyFrame(state: ChatState, frame: ServerFrame, now: number): ChatState {
  if (!frame || typeof frame !== 'object') return state;
  if (ROOM_EVENTS.has(frame.type)) return applyRoomEvent(state, frame as RoomEventFrame);
  switch (frame.type) {
    case 'ready':
      return { ...withUserSeq(state, frame.user_seq), connection: 'online' };
    case 'ack':
      return applyAck(state, frame.client_msg_id, frame.message);
    case 'error':
      return frame.ref ? markFailed(state, frame.ref, frame.message || frame.code) : state;
    case 'typing':
      return applyTyping(state, frame.room, frame.user_id, now);
    case 'presence':
      return applyPresence(state, frame);
    case 'read':
      return applyRead(state, frame.room, frame.seq);
    case 'message.ephemeral': {
      if (!state.rooms[frame.room] || !frame.message) return state;
      const message = completeEphemeral(frame.message, frame.room, now);
      const list = [...(state.ephemeral[frame.room] ?? []), message].slice(-EPHEMERAL_KEEP);
      return { ...state, ephemeral: { ...state.ephemeral, [frame.room]: list } };
    }
    case 'resync_required':
      return state.rooms[frame.room] ? { ...state, stale: { ...state.stale, [frame.room]: true } } : state;
    case 'room.added':
      return frame.room ? withUserSeq(addRoom(state, frame.room, frame.since), frame.user_seq) : state;
    case 'room.removed':
      return withUserSeq(leaveRoom(state, frame.room_id), frame.user_seq);
    default:
      return state; // pong and frame types this client does not know
  }
}

/** Fill what a bot's private answer may leave out, so it renders like a message. */
function completeEphemeral(m: Partial<Message>, room: number, now: number): Message {
  return {
    id: m.id ?? -now,
    room,
    seq: 0,
    author: m.author ?? { id: 0, username: 'bot', display_name: 'Bot', is_bot: true },
    body: m.body ?? '',
    html: m.html ?? '',
    thread_id: m.thread_id ?? null,
    reply_count: 0,
    created_at: m.created_at ?? new Date(now).toISOString(),
    edited_at: null,
    reactions: [],
  };
}

function withUserSeq(state: ChatState, userSeq: number | undefined): ChatState {
  if (typeof userSeq !== 'number' || (state.userSeq ?? -1) >= userSeq) return state;
  return { ...state, userSeq };
}

function eventRoomId(frame: RoomEventFrame): number {
  if (frame.type === 'room.updated') {
    const room = frame.room as unknown;
    return typeof room === 'number' ? room : (frame.room_id ?? frame.room.id);
  }
  return frame.room;
}

/**
 * Apply a durable room event exactly once and in seq order. A seq already
 * seen is a duplicate and changes nothing. A seq past a hole is held back
 * (an edit, a delete or a topic change applied before the events it follows
 * would leave the wrong state) until the hole fills, from the live stream,
 * from a resume replay, or from a refetch that moves the watermark past it.
 */
function applyRoomEvent(state: ChatState, frame: RoomEventFrame): ChatState {
  const roomId = eventRoomId(frame);
  const track = state.seqs[roomId];
  if (!track || !state.rooms[roomId]) return state; // not a room I follow
  if (typeof frame.seq !== 'number' || Number.isNaN(frame.seq)) {
    return applyRoomChange(state, roomId, frame); // a local echo: idempotent by itself
  }
  const verdict = judgeSeq(track, frame.seq);
  if (verdict === 'duplicate') return state;
  if (verdict === 'ahead') {
    const held = [...(state.held[roomId] ?? []), frame].sort((a, b) => a.seq - b.seq);
    return {
      ...state,
      seqs: { ...state.seqs, [roomId]: recordSeq(track, frame.seq) },
      held: { ...state.held, [roomId]: held },
    };
  }
  const applied = bumpLastSeq(applyRoomChange(state, roomId, frame), roomId, frame.seq);
  return noteSeq(applied, roomId, frame.seq);
}

/** Record an applied seq; then apply the held events that are no longer past a hole. */
function noteSeq(state: ChatState, roomId: number, seq: number): ChatState {
  const track = state.seqs[roomId];
  if (!track) return state;
  return releaseHeld({ ...state, seqs: { ...state.seqs, [roomId]: recordSeq(track, seq) } }, roomId);
}

/**
 * Apply, in order, the held events at or below the room's watermark. Called
 * when a hole fills and after a refetch moved the watermark: held events the
 * refetch already covers are applied too, harmlessly, since every change is
 * idempotent against a state that already has it.
 */
export function releaseHeld(state: ChatState, roomId: number): ChatState {
  const held = state.held[roomId];
  const track = state.seqs[roomId];
  if (!held?.length || !track) return state;
  const ready = held.filter((f) => f.seq <= track.last);
  if (!ready.length) return state;
  let next: ChatState = { ...state, held: { ...state.held, [roomId]: held.filter((f) => f.seq > track.last) } };
  for (const f of ready) {
    if (!next.seqs[roomId]) break; // the room went away (I left it)
    next = bumpLastSeq(applyRoomChange(next, roomId, f), roomId, f.seq);
  }
  return next;
}

function bumpLastSeq(state: ChatState, roomId: number, seq: number): ChatState {
  const room = state.rooms[roomId];
  if (!room || room.last_seq >= seq) return state;
  return { ...state, rooms: { ...state.rooms, [roomId]: { ...room, last_seq: seq } } };
}

function applyRoomChange(state: ChatState, roomId: number, frame: RoomEventFrame): ChatState {
  switch (frame.type) {
    case 'message.new':
      return arrive(state, roomId, frame.message);
    case 'message.edited':
      return frame.message ? refreshPinned(replaceMessage(state, frame.message), roomId, frame.message) : state;
    case 'message.pinned':
    case 'message.unpinned':
      return applyPinChange(state, roomId, frame.message, frame.by);
    case 'message.deleted':
      return applyDelete(dropPinned(state, roomId, frame.message_id), roomId, frame.message_id, frame.thread_id);
    case 'reaction.added':
    case 'reaction.removed': {
      const message = state.messages[frame.message_id];
      if (!message) return state;
      const change = frame.type === 'reaction.added' ? withReaction : withoutReaction;
      const updated = change(message, frame.emoji, frame.user_id);
      return updated === message ? state : { ...state, messages: { ...state.messages, [message.id]: updated } };
    }
    case 'member.joined': {
      const known = frame.user ? { ...state, users: { ...state.users, [frame.user.id]: { ...state.users[frame.user.id], ...frame.user } } } : state;
      return applyMembership(known, roomId, frame.user_id, true);
    }
    case 'member.left':
      return applyMembership(state, roomId, frame.user_id, false);
    case 'member.updated': {
      const room = state.rooms[roomId];
      if (!state.me || frame.user_id !== state.me.id || room.role === frame.role) return state;
      return { ...state, rooms: { ...state.rooms, [roomId]: { ...room, role: frame.role } } };
    }
    case 'room.updated':
      return updateRoom(state, roomId, frame.room as object);
  }
}

/** A message was deleted: take it out, uncount it if unread; its root loses a reply. */
function applyDelete(state: ChatState, roomId: number, messageId: number, threadId?: number | null): ChatState {
  const message = state.messages[messageId];
  if (!message) {
    // A reply I never loaded: its root still loses one reply.
    const root = threadId != null ? state.messages[threadId] : undefined;
    if (!root) return state;
    const fewer = { ...root, reply_count: Math.max(0, root.reply_count - 1) };
    return { ...state, messages: { ...state.messages, [root.id]: fewer } };
  }
  const room = state.rooms[roomId];
  const counted = { ...state, rooms: { ...state.rooms, [roomId]: countRemoval(room, message, state.me) } };
  return dropMessage(counted, messageId);
}

/** A new message: place it, count it, stop its author's typing, settle my pending send. */
function arrive(state: ChatState, roomId: number, message: Message): ChatState {
  if (!message) return state;
  const placed = placeMessage(state, message);
  let next = placed.state;
  if (placed.isNew) {
    if (message.thread_id != null) next = bumpReplyCount(next, message);
    const room = next.rooms[roomId];
    next = { ...next, rooms: { ...next.rooms, [roomId]: countArrival(room, message, next.me) } };
  }
  next = readOwnMessage(next, message);
  const typing = next.typing[roomId];
  if (typing && message.author.id in typing) {
    const rest = { ...typing };
    delete rest[message.author.id];
    next = { ...next, typing: { ...next.typing, [roomId]: rest } };
  }
  return removePending(next, message.client_msg_id);
}

/**
 * The server accepted my message. Its seq counts as applied, so the
 * `message.new` that may follow for it is a duplicate.
 */
function applyAck(state: ChatState, clientMsgId: string, message: Message | undefined): ChatState {
  let next = removePending(state, clientMsgId);
  if (!message || !next.rooms[message.room]) return next;
  const track = next.seqs[message.room];
  if (track && typeof message.seq === 'number' && judgeSeq(track, message.seq) === 'duplicate') {
    // Its message.new came first; make sure the message is in place all the same.
    return next.messages[message.id] ? next : placeMessage(next, message).state;
  }
  const placed = placeMessage(next, message);
  next = readOwnMessage(placed.state, message);
  if (placed.isNew && message.thread_id != null) next = bumpReplyCount(next, message);
  if (typeof message.seq !== 'number') return next;
  return noteSeq(bumpLastSeq(next, message.room, message.seq), message.room, message.seq);
}

/** Move my read position up to `seq` (mine or from another tab of mine). */
export function applyRead(state: ChatState, roomId: number, seq: number): ChatState {
  const room = state.rooms[roomId];
  if (!room || !state.seqs[roomId] || typeof seq !== 'number') return state;
  const counted = countRead(room, seq, room.last_seq, roomMessages(state, roomId), state.me);
  return counted === room ? state : { ...state, rooms: { ...state.rooms, [roomId]: counted } };
}

/** The server counts my own message as read by me, and everything before it. */
function readOwnMessage(state: ChatState, message: Message): ChatState {
  if (!state.me || message.author.id !== state.me.id) return state;
  const room = state.rooms[message.room];
  if (!room || message.seq <= room.last_read_seq) return state;
  const newest = Math.max(room.last_seq, message.seq);
  const counted = countRead(room, message.seq, newest, roomMessages(state, room.id), state.me);
  return { ...state, rooms: { ...state.rooms, [room.id]: counted } };
}

function applyPresence(state: ChatState, frame: Extract<ServerFrame, { type: 'presence' }>): ChatState {
  const changes: Record<number, Presence> = {};
  if (frame.users) for (const [id, status] of Object.entries(frame.users)) changes[Number(id)] = status;
  if (frame.user_id != null && frame.status) changes[frame.user_id] = frame.status;
  return Object.keys(changes).length ? { ...state, presence: { ...state.presence, ...changes } } : state;
}

function applyMembership(state: ChatState, roomId: number, userId: number, joined: boolean): ChatState {
  if (state.me && userId === state.me.id && !joined) return leaveRoom(state, roomId);
  const room = state.rooms[roomId];
  const members = state.roomMembers[roomId];
  let memberCount = room.member_count;
  let roomMembers = state.roomMembers;
  if (members) {
    const has = members.includes(userId);
    if (joined === has) return state;
    const ids = joined ? [...members, userId] : members.filter((id) => id !== userId);
    roomMembers = { ...roomMembers, [roomId]: ids };
    memberCount = ids.length;
  } else {
    memberCount = Math.max(0, memberCount + (joined ? 1 : -1));
  }
  return { ...state, roomMembers, rooms: { ...state.rooms, [roomId]: { ...room, member_count: memberCount } } };
}

function applyTyping(state: ChatState, roomId: number, userId: number, now: number): ChatState {
  if (!state.rooms[roomId] || (state.me && userId === state.me.id)) return state;
  const roomTyping = { ...(state.typing[roomId] ?? {}), [userId]: now + TYPING_SHOW_MS };
  return { ...state, typing: { ...state.typing, [roomId]: roomTyping } };
}
