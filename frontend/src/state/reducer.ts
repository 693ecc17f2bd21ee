/** The one reducer: (state, action) -> state, pure and framework-free. */
import type { Message, Room } from '../types';
import type { Action, PageMore } from './actions';
import { applyFrame, applyRead, releaseHeld } from './events';
import { initialState, type ChatState } from './model';
import { markFailed, markQueued, markSending, removePending, requeueInFlight } from './pending';
import { dropPinned, forgetPins, loadPins, pinnedRoomOf, refreshPinned } from './pins';
import { leaveRoom, loadRooms, normalizeRoom, upsertRoom } from './rooms';
import { fastForward, newTrack } from './seq';
import { applyPage, applyThread, dropMessage, replaceMessage } from './timeline';

export function reduce(state: ChatState, action: Action): ChatState {
  switch (action.type) {
    case 'session/started': {
      const fresh: ChatState = {
        ...initialState,
        me: action.me,
        users: { [action.me.id]: action.me },
        userSeq: action.userSeq ?? null,
        connection: 'connecting',
      };
      return loadRooms(fresh, action.rooms);
    }
    case 'session/ended':
      return { ...initialState, connection: 'signedOut' };
    case 'me/updated':
      return { ...state, me: { ...state.me, ...action.me }, users: { ...state.users, [action.me.id]: { ...state.users[action.me.id], ...action.me } } };
    case 'rooms/loaded':
      return loadRooms(state, action.rooms);
    case 'room/upserted':
      return upsertRoom(state, action.room);
    case 'room/forgotten':
      return leaveRoom(state, action.roomId);
    case 'users/loaded': {
      if (!action.users.length) return state;
      const users = { ...state.users };
      const presence = { ...state.presence };
      for (const u of action.users) {
        users[u.id] = { ...users[u.id], ...u };
        if (u.presence) presence[u.id] = u.presence;
      }
      return { ...state, users, presence };
    }
    case 'members/loaded': {
      const loaded = reduce(state, { type: 'users/loaded', users: action.users });
      const room = loaded.rooms[action.roomId];
      return {
        ...loaded,
        roomMembers: { ...loaded.roomMembers, [action.roomId]: action.users.map((u) => u.id) },
        rooms: room
          ? { ...loaded.rooms, [action.roomId]: { ...room, member_count: action.users.length } }
          : loaded.rooms,
      };
    }
    case 'timeline/loaded':
      return applyPage(state, action.roomId, action.mode, action.messages, action.limit, action.more);
    case 'thread/loaded':
      return applyThread(state, action.rootId, action.messages);
    case 'room/resynced':
      return resync(state, action.room, action.messages, action.limit, action.more);
    case 'message/upserted':
      return refreshPinned(replaceMessage(state, action.message), action.message.room, action.message);
    case 'message/removed': {
      const room = state.messages[action.messageId]?.room ?? pinnedRoomOf(state, action.messageId);
      return dropMessage(room != null ? dropPinned(state, room, action.messageId) : state, action.messageId);
    }
    case 'server/frame':
      return applyFrame(state, action.frame, action.now);
    case 'send/queued':
      return { ...state, pending: [...state.pending, action.pending] };
    case 'send/restored': {
      const have = new Set(state.pending.map((p) => p.clientMsgId));
      const fresh = action.pending.filter((p) => !have.has(p.clientMsgId));
      return fresh.length ? { ...state, pending: [...state.pending, ...fresh] } : state;
    }
    case 'send/started':
      return markSending(state, action.clientMsgIds);
    case 'send/failed':
      return markFailed(state, action.clientMsgId, action.error);
    case 'send/retried':
      return markQueued(state, action.clientMsgId);
    case 'send/discarded':
      return removePending(state, action.clientMsgId);
    case 'bots/loaded':
      return { ...state, bots: action.bots };
    case 'pins/loaded':
      return state.rooms[action.roomId] ? loadPins(state, action.roomId, action.messages) : state;
    case 'read/marked':
      return applyRead(state, action.roomId, action.seq);
    case 'connection/changed': {
      if (action.status === state.connection) return state;
      const next = { ...state, connection: action.status };
      return action.status === 'online' ? next : { ...requeueInFlight(next), typing: {} };
    }
  }
}

/**
 * Reload a room after resync_required or a hole that did not fill: the room
 * as fetched (its counts are the truth now), its newest page, and every seq
 * up to the fetched room's last_seq counted as applied. The room was fetched
 * before the page, so the page is at least as new as that seq.
 */
function resync(state: ChatState, room: Room, page: Message[] | null, limit: number, more?: PageMore): ChatState {
  if (!state.rooms[room.id] && !room.joined) return state;
  const track = state.seqs[room.id];
  // Events were missed: the pins list may be stale too; it is fetched again when shown.
  let next: ChatState = {
    ...forgetPins(state, room.id),
    rooms: { ...state.rooms, [room.id]: normalizeRoom(room) },
    seqs: { ...state.seqs, [room.id]: track ? fastForward(track, room.last_seq) : newTrack(room.last_seq) },
    stale: without(state.stale, room.id),
  };
  const threads = { ...next.threads };
  for (const key of Object.keys(threads)) {
    const rootId = Number(key);
    if (next.messages[rootId]?.room === room.id) threads[rootId] = { ...threads[rootId], loaded: false };
  }
  next = { ...next, threads };
  next = page
    ? applyPage(next, room.id, 'latest', page, limit, more)
    : { ...next, timelines: without(next.timelines, room.id) };
  return releaseHeld(next, room.id);
}

function without<T>(rec: Record<number, T>, id: number): Record<number, T> {
  if (!(id in rec)) return rec;
  const copy = { ...rec };
  delete copy[id];
  return copy;
}
