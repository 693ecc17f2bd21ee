/**
 * The signed-in session: wires the store to the REST client and the socket.
 * Components call its methods; it performs the requests and dispatches what
 * comes back. No React here, so it can be tested with fakes.
 */
import { ApiError, type Api, type RoomChanges } from '../net/api';
import { ChatSocket, defaultSocketUrl, type SocketFactory } from '../net/socket';
import type { PendingSend } from '../state/model';
import type { PageMode, PageMore } from '../state/actions';
import type { ChatState } from '../state/model';
import { createPending, queuedSends } from '../state/pending';
import { hasReacted } from '../state/reactions';
import { buildResume } from '../state/resume';
import { hasGap } from '../state/seq';
import type { Store } from '../state/store';
import type { BotInfo, Message, Page, Room, ServerFrame, User } from '../types';
import { browserStorage, createOutbox, type Outbox } from './outbox';

import { PAGE_SIZE } from './paging';

export { PAGE_SIZE };
/** Send a typing frame at most this often while typing. */
export const TYPING_EVERY_MS = 3000;
/** Save the read position at most this often per room. */
export const READ_EVERY_MS = 1500;
/** Wait this long for a hole in a room's seqs to fill before refetching. */
export const GAP_GRACE_MS = 1500;
/** Re-send an unacknowledged message after this long, then give up. */
export const ACK_TIMEOUT_MS = 15_000;
/** Wait this long before retrying a room reload that failed. */
export const RESYNC_RETRY_MS = 5000;
/** After a failed bot catalogue load, ask again no sooner than this. */
export const BOTS_RETRY_MS = 30_000;
/** Load at most this many pages of one thread. */
const THREAD_MAX_PAGES = 20;

/** Read the prev/next cursors of a history page, when the server sent them. */
export function pageMore(page: Page<Message>): PageMore | undefined {
  if (!('prev' in page) && !('next' in page)) return undefined;
  return { older: page.prev != null, newer: page.next != null };
}

export interface SessionOptions {
  store: Store;
  api: Api;
  socketUrl?: string | (() => string);
  createSocket?: SocketFactory;
  uuid?: () => string;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  random?: () => number;
  /** Where unsent messages survive a reload (default: localStorage). */
  outbox?: Outbox;
}

export class ChatSession {
  readonly store: Store;
  readonly api: Api;
  private socket: ChatSocket;
  private readonly uuid: () => string;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;
  private unsubscribe: (() => void) | null = null;
  private everReady = false;
  private lastTyping = new Map<number, number>();
  private reads = new Map<number, { seq: number; sentSeq: number; at: number; timer: unknown }>();
  private gapTimers = new Map<number, unknown>();
  private repairing = new Set<number>();
  private ackTimers = new Map<string, { timer: unknown; tries: number }>();
  private loading = new Set<string>();
  private booting: Promise<boolean> | null = null;
  private botsLoading: Promise<void> | null = null;
  private botsFailedAt = -Infinity;
  private readonly outbox: Outbox;
  /** The queue as this tab last stored (or loaded) it. */
  private storedPending: readonly PendingSend[] = [];

  constructor(o: SessionOptions) {
    this.store = o.store;
    this.api = o.api;
    this.uuid = o.uuid ?? (() => crypto.randomUUID());
    this.now = o.now ?? Date.now;
    this.setTimer = o.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = o.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
    this.outbox = o.outbox ?? createOutbox(browserStorage());
    this.socket = new ChatSocket({
      url: o.socketUrl ?? (() => defaultSocketUrl()),
      create: o.createSocket,
      random: o.random,
      setTimer: this.setTimer,
      clearTimer: this.clearTimer,
      onOpen: () => this.handleOpen(),
      onFrame: (frame) => this.handleFrame(frame),
      onClose: (info) => {
        if (!info.willRetry) {
          this.end();
          return;
        }
        this.store.dispatch({ type: 'connection/changed', status: 'reconnecting' });
      },
    });
  }

  get state(): ChatState {
    return this.store.getState();
  }

  // ---- sign in and out -------------------------------------------------

  /** Find out whether the browser is signed in; start the session if so. */
  boot(): Promise<boolean> {
    this.booting ??= this.bootOnce().finally(() => {
      this.booting = null;
    });
    return this.booting;
  }

  private async bootOnce(): Promise<boolean> {
    if (!this.api.maybeSignedIn()) {
      this.store.dispatch({ type: 'session/ended' });
      return false;
    }
    // The room list does not wait for the profile (one round trip less).
    const rooms = this.api.rooms();
    rooms.catch(() => undefined); // read below once signed in; a 401 is the profile's to tell
    let me: User & { user_seq?: number };
    try {
      me = await this.api.me();
    } catch (e) {
      if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
        this.store.dispatch({ type: 'session/ended' });
        return false;
      }
      throw e;
    }
    await this.start(me, rooms);
    return true;
  }

  async login(username: string, password: string): Promise<void> {
    const { user } = await this.api.login(username, password);
    const me = user ?? (await this.api.me());
    await this.start(me);
  }

  async logout(): Promise<void> {
    const me = this.state.me;
    try {
      await this.api.logout();
      // Signing out on purpose forgets the unsent messages (a shared computer
      // keeps no one's drafts); a session that expired keeps them.
      if (me) this.outbox.clear(me.id);
    } finally {
      this.end();
    }
  }

  private async start(me: User & { user_seq?: number }, roomList?: ReturnType<Api['rooms']>): Promise<void> {
    const rooms = await (roomList ?? this.api.rooms());
    this.store.dispatch({ type: 'session/started', me, rooms: rooms.results, userSeq: me.user_seq ?? null });
    this.unsubscribe?.();
    this.restorePending(me.id);
    const offRepairs = this.store.subscribe(() => this.checkRepairs());
    const offOutbox = this.store.subscribe(() => this.storePending(me.id));
    this.unsubscribe = () => {
      offRepairs();
      offOutbox();
    };
    this.everReady = false;
    this.socket.start();
    this.api
      .users()
      .then((page) => this.store.dispatch({ type: 'users/loaded', users: page.results }))
      .catch(() => undefined);
  }

  /**
   * Queue again what this user left unsent in an earlier page (same
   * client_msg_id, so the server keeps one copy whatever happened before the
   * reload). Messages for rooms I am no longer in are dropped.
   */
  private restorePending(userId: number): void {
    const stored = this.outbox.load(userId);
    this.storedPending = stored;
    const rooms = this.state.rooms;
    const kept = stored.filter((p) => rooms[p.room]?.joined);
    if (kept.length) this.store.dispatch({ type: 'send/restored', pending: kept });
    if (kept.length !== stored.length) this.storePending(userId, true);
  }

  /** Write the queue to the outbox whenever it changed. */
  private storePending(userId: number, force = false): void {
    const current = this.state.pending;
    if (current === this.storedPending && !force) return;
    this.outbox.save(userId, this.storedPending, current);
    this.storedPending = current;
  }

  /** Stop everything and show the sign-in page. */
  end(): void {
    this.socket.stop();
    this.unsubscribe?.();
    this.unsubscribe = null;
    for (const t of this.gapTimers.values()) this.clearTimer(t);
    for (const r of this.reads.values()) if (r.timer != null) this.clearTimer(r.timer);
    for (const a of this.ackTimers.values()) this.clearTimer(a.timer);
    this.gapTimers.clear();
    this.reads.clear();
    this.ackTimers.clear();
    this.repairing.clear();
    this.lastTyping.clear();
    this.store.dispatch({ type: 'session/ended' });
  }

  /** Reconnect at once if a reconnect is pending (e.g. the browser came back online). */
  reconnectNow(): void {
    this.socket.reconnectNow();
  }

  // ---- socket ------------------------------------------------------------

  private handleOpen(): void {
    this.store.dispatch({ type: 'connection/changed', status: 'syncing' });
    this.socket.send(buildResume(this.state));
  }

  private handleFrame(frame: ServerFrame): void {
    this.store.dispatch({ type: 'server/frame', frame, now: this.now() });
    if (frame.type === 'ack') this.settleAck(frame.client_msg_id);
    else if (frame.type === 'error' && frame.ref) this.handleSendError(frame.ref, frame.code, frame.retry_after);
    else if (frame.type === 'message.new' && frame.message?.client_msg_id) this.settleAck(frame.message.client_msg_id);
    else if (frame.type === 'ready') this.handleReady();
    else if (frame.type === 'room.added' && frame.room) void this.refreshRoom(frame.room.id);
  }

  /** A refused send stays failed (with Retry), except a rate limit: that one retries by itself. */
  private handleSendError(clientMsgId: string, code: string, retryAfter: number | undefined): void {
    this.settleAck(clientMsgId);
    if (code !== 'rate_limited') return;
    const wait = Math.max(1, retryAfter ?? 2) * 1000;
    this.setTimer(() => {
      const p = this.state.pending.find((x) => x.clientMsgId === clientMsgId);
      if (p?.status === 'failed') this.retrySend(clientMsgId);
    }, wait);
  }

  /** Change my own profile (display name, time zone); throws ApiError on bad input. */
  async updateProfile(changes: { display_name?: string; timezone?: string | null }): Promise<User> {
    const me = await this.api.updateMe(changes);
    this.store.dispatch({ type: 'me/updated', me });
    return me;
  }

  /** Make a room I may see but have not loaded (e.g. a public room from a search result) known. */
  async ensureRoom(roomId: number): Promise<void> {
    if (this.state.rooms[roomId]) return;
    const room = await this.api.room(roomId);
    this.store.dispatch({ type: 'room/upserted', room });
  }

  /** Fetch a room's details (member count, DM members) that a user-stream frame leaves out. */
  private async refreshRoom(roomId: number): Promise<void> {
    try {
      const room = await this.api.room(roomId);
      this.store.dispatch({ type: 'room/upserted', room });
    } catch {
      // The next room list refresh will tell.
    }
  }

  private handleReady(): void {
    if (this.everReady) {
      // Rooms added or removed while away, when the server keeps no user stream for us.
      this.api
        .rooms()
        .then((page) => this.store.dispatch({ type: 'rooms/loaded', rooms: page.results }))
        .catch(() => undefined);
    }
    this.everReady = true;
    this.flushQueue();
    for (const roomId of this.reads.keys()) this.flushRead(roomId);
    this.checkRepairs();
  }

  /** Resync rooms the server asked us to, and rooms whose seq hole did not fill. */
  private checkRepairs(): void {
    const s = this.state;
    if (s.connection !== 'online') return;
    for (const id of Object.keys(s.stale).map(Number)) void this.resync(id);
    for (const [idText, track] of Object.entries(s.seqs)) {
      const id = Number(idText);
      if (!hasGap(track) || this.gapTimers.has(id) || this.repairing.has(id)) continue;
      this.gapTimers.set(
        id,
        this.setTimer(() => {
          this.gapTimers.delete(id);
          if (hasGap(this.state.seqs[id]) && this.state.connection === 'online') void this.resync(id);
        }, GAP_GRACE_MS),
      );
    }
  }

  /** Reload a room: the room first (its last_seq), then its newest page if it was open. */
  async resync(roomId: number): Promise<void> {
    if (this.repairing.has(roomId)) return;
    this.repairing.add(roomId);
    try {
      const room = await this.api.room(roomId);
      const wasLoaded = !!this.state.timelines[roomId];
      const page = wasLoaded ? await this.api.messages(roomId, { limit: PAGE_SIZE }) : null;
      this.store.dispatch({
        type: 'room/resynced',
        room,
        messages: page?.results ?? null,
        limit: PAGE_SIZE,
        more: page ? pageMore(page) : undefined,
      });
      this.repairing.delete(roomId);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        this.repairing.delete(roomId);
        this.store.dispatch({ type: 'room/forgotten', roomId });
        return;
      }
      // Try again later, not on every state change in between.
      this.setTimer(() => {
        this.repairing.delete(roomId);
        this.checkRepairs();
      }, RESYNC_RETRY_MS);
    }
  }

  // ---- sending -----------------------------------------------------------

  /** Send a message: it shows as pending at once and goes out now or when back online. */
  send(roomId: number, body: string, threadId: number | null = null): string {
    const pending = createPending({ clientMsgId: this.uuid(), room: roomId, body, threadId, now: new Date(this.now()) });
    this.store.dispatch({ type: 'send/queued', pending });
    this.flushQueue();
    // Others stop showing me as typing when my message lands, so the next
    // keystroke may tell them again at once.
    this.lastTyping.delete(roomId);
    return pending.clientMsgId;
  }

  retrySend(clientMsgId: string): void {
    this.store.dispatch({ type: 'send/retried', clientMsgId });
    this.flushQueue();
  }

  discardSend(clientMsgId: string): void {
    this.store.dispatch({ type: 'send/discarded', clientMsgId });
    this.settleAck(clientMsgId);
  }

  /** Send every queued message once, oldest first, when the socket is live. */
  private flushQueue(): void {
    if (this.state.connection !== 'online') return;
    const sent: string[] = [];
    for (const p of queuedSends(this.state)) {
      const ok = this.socket.send({
        type: 'message.send',
        room: p.room,
        body: p.body,
        client_msg_id: p.clientMsgId,
        ...(p.threadId != null ? { thread_id: p.threadId } : {}),
      });
      if (!ok) break;
      sent.push(p.clientMsgId);
    }
    if (!sent.length) return;
    this.store.dispatch({ type: 'send/started', clientMsgIds: sent });
    for (const id of sent) this.watchAck(id);
  }

  private watchAck(clientMsgId: string): void {
    const prev = this.ackTimers.get(clientMsgId);
    if (prev) this.clearTimer(prev.timer);
    const tries = (prev?.tries ?? 0) + 1;
    const timer = this.setTimer(() => {
      const p = this.state.pending.find((x) => x.clientMsgId === clientMsgId);
      if (!p || p.status !== 'sending') {
        this.ackTimers.delete(clientMsgId);
        return;
      }
      if (tries >= 2) {
        this.ackTimers.delete(clientMsgId);
        this.store.dispatch({ type: 'send/failed', clientMsgId, error: 'No answer from the server.' });
        return;
      }
      this.store.dispatch({ type: 'send/retried', clientMsgId });
      this.flushQueue();
    }, ACK_TIMEOUT_MS);
    this.ackTimers.set(clientMsgId, { timer, tries });
  }

  private settleAck(clientMsgId: string): void {
    const a = this.ackTimers.get(clientMsgId);
    if (!a) return;
    this.clearTimer(a.timer);
    this.ackTimers.delete(clientMsgId);
  }

  // ---- typing and read position -----------------------------------------

  /** Call on every keystroke in the composer; sends at most every TYPING_EVERY_MS. */
  notifyTyping(roomId: number): void {
    const now = this.now();
    const last = this.lastTyping.get(roomId) ?? -Infinity;
    if (now - last < TYPING_EVERY_MS || this.state.connection !== 'online') return;
    if (this.socket.send({ type: 'typing', room: roomId })) this.lastTyping.set(roomId, now);
  }

  /** Move my read position to `seq` (counts update at once; the server hears throttled). */
  markRead(roomId: number, seq: number): void {
    const room = this.state.rooms[roomId];
    if (!room || !room.joined || seq <= room.last_read_seq) return;
    this.store.dispatch({ type: 'read/marked', roomId, seq });
    const entry = this.reads.get(roomId) ?? { seq: 0, sentSeq: 0, at: -Infinity, timer: null };
    entry.seq = Math.max(entry.seq, seq);
    this.reads.set(roomId, entry);
    this.flushRead(roomId);
  }

  /** Mark everything applied in the room as read. */
  markRoomRead(roomId: number): void {
    const room = this.state.rooms[roomId];
    if (room) this.markRead(roomId, room.last_seq);
  }

  /** Send the room's newest read position unless sent already; at most every READ_EVERY_MS. */
  private flushRead(roomId: number): void {
    const entry = this.reads.get(roomId);
    if (!entry || entry.seq <= entry.sentSeq || entry.timer != null) return;
    const wait = entry.at + READ_EVERY_MS - this.now();
    if (wait > 0) {
      entry.timer = this.setTimer(() => {
        entry.timer = null;
        this.flushRead(roomId);
      }, wait);
      return;
    }
    entry.at = this.now();
    const seq = entry.seq;
    if (this.state.connection === 'online' && this.socket.send({ type: 'read', room: roomId, seq })) {
      entry.sentSeq = seq;
      return;
    }
    this.api.markRead(roomId, seq).then(
      () => {
        entry.sentSeq = Math.max(entry.sentSeq, seq);
      },
      () => undefined, // sent again once the socket is back
    );
  }

  // ---- history -----------------------------------------------------------

  private async loadPage(roomId: number, mode: PageMode, query: Parameters<Api['messages']>[1]): Promise<void> {
    const key = `${roomId}:${mode}`;
    if (this.loading.has(key)) return;
    this.loading.add(key);
    try {
      const read = () => this.api.messages(roomId, { limit: PAGE_SIZE, ...query });
      let page = await read();
      if (mode === 'latest' && (page.last_seq ?? Infinity) < (this.state.seqs[roomId]?.last ?? 0)) {
        // Read before events this client already took as seen (the room list
        // it got at the same time, or the socket): what came between would be
        // missing for good, so read the page again.
        page = await read();
      }
      this.store.dispatch({
        type: 'timeline/loaded',
        roomId,
        mode,
        messages: page.results,
        limit: PAGE_SIZE,
        more: pageMore(page),
      });
    } finally {
      this.loading.delete(key);
    }
  }

  /** Load a room's newest page unless it is loaded already. */
  async openRoom(roomId: number): Promise<void> {
    if (this.state.timelines[roomId]) return;
    await this.loadPage(roomId, 'latest', {});
  }

  async loadLatest(roomId: number): Promise<void> {
    await this.loadPage(roomId, 'latest', {});
  }

  async loadOlder(roomId: number): Promise<void> {
    const tl = this.state.timelines[roomId];
    if (!tl?.hasOlder || !tl.ids.length) return;
    await this.loadPage(roomId, 'older', { before: tl.ids[0] });
  }

  async loadNewer(roomId: number): Promise<void> {
    const tl = this.state.timelines[roomId];
    if (!tl?.hasNewer || !tl.ids.length) return;
    await this.loadPage(roomId, 'newer', { after: tl.ids[tl.ids.length - 1] });
  }

  /** Load the page around a message (for links to it). */
  async jumpTo(roomId: number, messageId: number): Promise<void> {
    const tl = this.state.timelines[roomId];
    if (tl?.ids.includes(messageId)) return;
    await this.loadPage(roomId, 'around', { around: messageId });
  }

  /** Load a thread's replies, following the `next` cursor through long threads. */
  async loadThread(rootId: number): Promise<void> {
    const replies: Message[] = [];
    let after: number | undefined;
    for (let i = 0; i < THREAD_MAX_PAGES; i += 1) {
      const page = await this.api.replies(rootId, after);
      replies.push(...page.results);
      if (page.next == null || !page.results.length) break;
      after = page.results[page.results.length - 1].id;
    }
    this.store.dispatch({ type: 'thread/loaded', rootId, messages: replies });
  }

  // ---- messages ----------------------------------------------------------

  async editMessage(id: number, body: string): Promise<void> {
    const message = await this.api.editMessage(id, body);
    if (message && typeof message === 'object' && 'id' in message) {
      this.store.dispatch({ type: 'message/upserted', message });
    }
  }

  async deleteMessage(id: number): Promise<void> {
    await this.api.deleteMessage(id);
    this.store.dispatch({ type: 'message/removed', messageId: id });
  }

  /** Add my reaction, or take it back if I already reacted with that emoji. */
  async toggleReaction(message: Message, emoji: string): Promise<void> {
    const me = this.state.me;
    if (!me) return;
    const removing = hasReacted(message, emoji, me.id);
    if (removing) await this.api.removeReaction(message.id, emoji);
    else await this.api.addReaction(message.id, emoji);
    // Show my change at once. The event (with its seq) follows and changes
    // nothing more: reactions are idempotent per (emoji, user).
    const frame = {
      type: removing ? 'reaction.removed' : 'reaction.added',
      room: message.room,
      message_id: message.id,
      emoji,
      user_id: me.id,
    } as unknown as ServerFrame; // no seq: a local echo is not a durable event
    this.store.dispatch({ type: 'server/frame', frame, now: this.now() });
  }

  // ---- pins ----------------------------------------------------------------

  /** Load a room's pinned messages (the Pinned panel; events keep them current after). */
  async loadPins(roomId: number): Promise<void> {
    const page = await this.api.pins(roomId);
    this.store.dispatch({ type: 'pins/loaded', roomId, messages: page.results });
  }

  /** Pin or unpin a message; my change shows at once, its event (with a seq) changes nothing more. */
  async togglePin(message: Message): Promise<void> {
    const me = this.state.me;
    let changed: Message;
    if (message.pinned_at != null) {
      await this.api.unpin(message.room, message.id);
      changed = { ...(this.state.messages[message.id] ?? message), pinned_at: null, pinned_by: null };
    } else {
      changed = await this.api.pin(message.room, message.id);
    }
    const frame = {
      type: changed.pinned_at != null ? 'message.pinned' : 'message.unpinned',
      room: message.room,
      message_id: message.id,
      message: changed,
      ...(me ? { by: me } : {}),
    } as unknown as ServerFrame; // no seq: a local echo is not a durable event
    this.store.dispatch({ type: 'server/frame', frame, now: this.now() });
  }

  // ---- bots ----------------------------------------------------------------

  /**
   * Load the bot catalogue once, for /command suggestions. A server without
   * GET /bots (404) has no catalogue: nothing is offered and it is not asked
   * again. Other failures are retried after BOTS_RETRY_MS.
   */
  loadBots(): Promise<void> {
    if (this.state.bots != null || !this.state.me) return Promise.resolve();
    if (this.botsLoading) return this.botsLoading;
    if (this.now() - this.botsFailedAt < BOTS_RETRY_MS) return Promise.resolve();
    this.botsLoading = this.api
      .bots()
      .then(
        (page) => {
          const bots = Array.isArray(page?.results) ? page.results.filter(isBotInfo) : [];
          this.store.dispatch({ type: 'bots/loaded', bots });
        },
        (e) => {
          if (e instanceof ApiError && e.status === 404) this.store.dispatch({ type: 'bots/loaded', bots: [] });
          else this.botsFailedAt = this.now();
        },
      )
      .finally(() => {
        this.botsLoading = null;
      });
    return this.botsLoading;
  }

  // ---- rooms and people --------------------------------------------------

  async searchUsers(q: string): Promise<User[]> {
    const page = await this.api.users(q);
    this.store.dispatch({ type: 'users/loaded', users: page.results });
    return page.results;
  }

  async loadMembers(roomId: number): Promise<User[]> {
    const page = await this.api.members(roomId);
    this.store.dispatch({ type: 'members/loaded', roomId, users: page.results });
    return page.results;
  }

  async createRoom(data: { name: string; topic: string; visibility: 'public' | 'private' }): Promise<Room> {
    const room = await this.api.createRoom(data);
    this.store.dispatch({ type: 'room/upserted', room: { ...room, joined: true, role: room.role ?? 'admin' } });
    return room;
  }

  async joinRoom(roomId: number): Promise<void> {
    const answer = await this.api.joinRoom(roomId);
    const room = answer && typeof answer === 'object' && 'id' in answer ? answer : await this.api.room(roomId);
    this.store.dispatch({ type: 'room/upserted', room: { ...room, joined: true } });
  }

  async leaveRoom(roomId: number): Promise<void> {
    await this.api.leaveRoom(roomId);
    this.store.dispatch({ type: 'room/forgotten', roomId });
  }

  async openDm(userIds: number[]): Promise<Room> {
    const room = await this.api.openDm(userIds);
    this.store.dispatch({ type: 'room/upserted', room: { ...room, joined: true } });
    return room;
  }

  async updateRoom(roomId: number, data: RoomChanges): Promise<void> {
    const room = await this.api.updateRoom(roomId, data);
    if (room && typeof room === 'object' && 'id' in room) {
      this.store.dispatch({ type: 'room/upserted', room });
    }
  }

  async addMembers(roomId: number, userIds: number[]): Promise<void> {
    await this.api.addMembers(roomId, userIds);
    await this.loadMembers(roomId);
  }

  async removeMember(roomId: number, userId: number): Promise<void> {
    await this.api.removeMember(roomId, userId);
    await this.loadMembers(roomId);
  }
}

/** A catalogue entry the suggestions can use (anything else is skipped). */
function isBotInfo(x: unknown): x is BotInfo {
  if (!x || typeof x !== 'object') return false;
  const b = x as Record<string, unknown>;
  return (
    typeof b.username === 'string' &&
    Array.isArray(b.commands) &&
    b.commands.every((c) => !!c && typeof c === 'object' && typeof (c as { name?: unknown }).name === 'string')
  );
}
