/**
 * Where messages live in the state: one map by id, a window of top-level ids
 * per room and the reply ids of each loaded thread. Placing a message twice
 * (an `ack` and then its `message.new`, a replay of a fetched page) only
 * updates it: dedupe is by message id.
 */
import type { Message } from '../types';
import type { PageMode, PageMore } from './actions';
import type { ChatState, Timeline } from './model';

/** Merge two ascending id lists without duplicates. */
export function mergeIds(a: number[], b: number[]): number[] {
  if (!b.length) return a;
  const out = Array.from(new Set([...a, ...b]));
  out.sort((x, y) => x - y);
  return out;
}

function storeAll(state: ChatState, messages: Message[]): Record<number, Message> {
  if (!messages.length) return state.messages;
  const next = { ...state.messages };
  for (const m of messages) next[m.id] = m;
  return next;
}

/**
 * Apply a fetched page of a room's top-level messages. Whether more history
 * lies beyond it comes from the page's cursors when given, else from whether
 * the page came back full.
 */
export function applyPage(
  state: ChatState,
  roomId: number,
  mode: PageMode,
  page: Message[],
  limit: number,
  more?: PageMore,
): ChatState {
  const ids = page.map((m) => m.id).sort((a, b) => a - b);
  const full = page.length >= limit;
  const old = state.timelines[roomId];
  const jump = old?.jump != null ? { jump: old.jump } : {};
  let timeline: Timeline;
  switch (mode) {
    case 'latest':
      timeline = { ids, hasOlder: more ? more.older : full, hasNewer: false, ...jump };
      break;
    case 'around':
      timeline = {
        ids,
        hasOlder: more ? more.older : ids.length > 0,
        hasNewer: more ? more.newer : ids.length > 0,
        jump: (old?.jump ?? 0) + 1,
      };
      break;
    case 'older':
      timeline = {
        ids: mergeIds(old?.ids ?? [], ids),
        hasOlder: more ? more.older : full,
        hasNewer: old?.hasNewer ?? false,
        ...jump,
      };
      break;
    case 'newer':
      timeline = {
        ids: mergeIds(old?.ids ?? [], ids),
        hasOlder: old?.hasOlder ?? false,
        hasNewer: more ? more.newer : full,
        ...jump,
      };
      break;
  }
  return {
    ...state,
    messages: storeAll(state, page),
    timelines: { ...state.timelines, [roomId]: timeline },
  };
}

/** Apply a thread's replies (oldest first). */
export function applyThread(state: ChatState, rootId: number, replies: Message[]): ChatState {
  const ids = replies.map((m) => m.id).sort((a, b) => a - b);
  return {
    ...state,
    messages: storeAll(state, replies),
    threads: { ...state.threads, [rootId]: { ids, loaded: true } },
  };
}

/** Replace a message I already have (an edit); unknown messages are not mine to show. */
export function replaceMessage(state: ChatState, message: Message): ChatState {
  if (!state.messages[message.id]) return state;
  return { ...state, messages: { ...state.messages, [message.id]: message } };
}

/**
 * Put one message in its place. A top-level message joins the room's window
 * when the window reaches the newest messages (or already spans its id); a
 * reply joins its loaded thread. Returns whether the id was new to the state.
 */
export function placeMessage(state: ChatState, message: Message): { state: ChatState; isNew: boolean } {
  const isNew = !state.messages[message.id];
  const messages = { ...state.messages, [message.id]: message };
  let { timelines, threads } = state;
  if (message.thread_id == null) {
    const tl = timelines[message.room];
    if (tl && fitsWindow(tl, message.id)) {
      timelines = { ...timelines, [message.room]: { ...tl, ids: mergeIds(tl.ids, [message.id]) } };
    }
  } else {
    const th = threads[message.thread_id];
    if (th?.loaded) {
      threads = { ...threads, [message.thread_id]: { ...th, ids: mergeIds(th.ids, [message.id]) } };
    }
  }
  return { state: { ...state, messages, timelines, threads }, isNew };
}

function fitsWindow(tl: Timeline, id: number): boolean {
  if (!tl.hasNewer) return true;
  return tl.ids.length > 0 && id >= tl.ids[0] && id <= tl.ids[tl.ids.length - 1];
}

/** Remove a message from the map, its room window and its thread. */
export function dropMessage(state: ChatState, messageId: number): ChatState {
  const message = state.messages[messageId];
  if (!message) return state;
  const messages = { ...state.messages };
  delete messages[messageId];
  let { timelines, threads } = state;
  const tl = timelines[message.room];
  if (tl?.ids.includes(messageId)) {
    timelines = { ...timelines, [message.room]: { ...tl, ids: tl.ids.filter((i) => i !== messageId) } };
  }
  if (message.thread_id != null) {
    const th = threads[message.thread_id];
    if (th) {
      threads = { ...threads, [message.thread_id]: { ...th, ids: th.ids.filter((i) => i !== messageId) } };
    }
    const root = messages[message.thread_id];
    if (root) messages[root.id] = { ...root, reply_count: Math.max(0, root.reply_count - 1) };
  }
  return { ...state, messages, timelines, threads };
}

/** Count a new reply on its root, when the root is loaded. */
export function bumpReplyCount(state: ChatState, reply: Message): ChatState {
  const root = reply.thread_id != null ? state.messages[reply.thread_id] : undefined;
  if (!root) return state;
  return { ...state, messages: { ...state.messages, [root.id]: { ...root, reply_count: root.reply_count + 1 } } };
}

/** Forget everything loaded for a room (left, removed, or to be reloaded). */
export function forgetRoomMessages(state: ChatState, roomId: number): ChatState {
  const messages: Record<number, Message> = {};
  for (const m of Object.values(state.messages)) if (m.room !== roomId) messages[m.id] = m;
  const threads = { ...state.threads };
  for (const key of Object.keys(threads)) {
    const rootId = Number(key);
    if (state.messages[rootId]?.room === roomId) delete threads[rootId];
  }
  const timelines = { ...state.timelines };
  delete timelines[roomId];
  return { ...state, messages, threads, timelines };
}

/** Loaded messages of a room (top-level and replies), for read counting. */
export function roomMessages(state: ChatState, roomId: number): Message[] {
  return Object.values(state.messages).filter((m) => m.room === roomId);
}
