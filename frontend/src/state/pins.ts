/**
 * Pinned messages. A pin lives on the message itself (`pinned_at`,
 * `pinned_by`), so every copy of it (the room's window, a thread, the pins
 * list) shows it; the pins list of a room is kept only once it was loaded.
 * Every change here is idempotent: a local echo and the durable event that
 * follows it, or a replay after a refetch, leave the same state.
 */
import type { AuthorRef, Message } from '../types';
import type { ChatState } from './model';
import { replaceMessage } from './timeline';

export function isPinned(message: Message): boolean {
  return message.pinned_at != null && !message.deleted;
}

/** Most recently pinned first; equal times (same second from an import) by id, newest first. */
function byPinTime(a: Message, b: Message): number {
  const ta = Date.parse(a.pinned_at ?? '') || 0;
  const tb = Date.parse(b.pinned_at ?? '') || 0;
  return tb - ta || b.id - a.id;
}

/** Take a room's pins as fetched. */
export function loadPins(state: ChatState, roomId: number, messages: Message[]): ChatState {
  const list = messages.filter(isPinned).sort(byPinTime);
  return { ...state, pins: { ...state.pins, [roomId]: list } };
}

/** Put the message's new version in the room's loaded pins list, or take it out. */
function syncPinList(state: ChatState, roomId: number, message: Message): ChatState {
  const list = state.pins[roomId];
  if (!list) return state;
  const rest = list.filter((m) => m.id !== message.id);
  const next = isPinned(message) ? [...rest, message].sort(byPinTime) : rest;
  if (next.length === list.length && next.every((m, i) => m === list[i])) return state;
  return { ...state, pins: { ...state.pins, [roomId]: next } };
}

/**
 * `message.pinned` / `message.unpinned` (or my own pin's echo): the event
 * carries the whole message after the change. A pin replayed for a message
 * deleted since comes in its deleted form and pins nothing.
 */
export function applyPinChange(state: ChatState, roomId: number, message: Message, by?: AuthorRef): ChatState {
  if (!message || typeof message.id !== 'number') return state;
  let next = state;
  if (by && typeof by.id === 'number') {
    next = { ...next, users: { ...next.users, [by.id]: { ...next.users[by.id], ...by } } };
  }
  const known = next.messages[message.id];
  // Only the pin changes here (edits and reactions have their own events, and a
  // local echo may carry an older copy); a deleted form changes nothing loaded.
  if (known && !message.deleted && (known.pinned_at !== message.pinned_at || known.pinned_by !== message.pinned_by)) {
    next = replaceMessage(next, { ...known, pinned_at: message.pinned_at ?? null, pinned_by: message.pinned_by ?? null });
  }
  return syncPinList(next, roomId, message);
}

/** An edit of a message keeps its pinned copy current. */
export function refreshPinned(state: ChatState, roomId: number, message: Message): ChatState {
  const list = state.pins[roomId];
  if (!list?.some((m) => m.id === message.id)) return state;
  return syncPinList(state, roomId, message);
}

/** A deleted message is no longer pinned. */
export function dropPinned(state: ChatState, roomId: number, messageId: number): ChatState {
  const list = state.pins[roomId];
  if (!list?.some((m) => m.id === messageId)) return state;
  return { ...state, pins: { ...state.pins, [roomId]: list.filter((m) => m.id !== messageId) } };
}

/** The room whose loaded pins list holds this message, if any. */
export function pinnedRoomOf(state: ChatState, messageId: number): number | undefined {
  for (const [room, list] of Object.entries(state.pins)) {
    if (list.some((m) => m.id === messageId)) return Number(room);
  }
  return undefined;
}

/** Forget a room's pins (reload them when next shown). */
export function forgetPins(state: ChatState, roomId: number): ChatState {
  if (!(roomId in state.pins)) return state;
  const pins = { ...state.pins };
  delete pins[roomId];
  return { ...state, pins };
}
