/**
 * Unsent messages kept across page reloads, per user, in localStorage.
 *
 * The in-memory queue (state/pending.ts) is the truth while the page lives;
 * this copy only brings it back after a reload or a closed tab. Each entry
 * keeps its `client_msg_id`, so sending it again after a reload is safe: the
 * server answers a repeated id with the original message (API.md, Messages).
 *
 * Several tabs of one user share the stored list. A tab writes only what it
 * changed (its own additions, updates and removals) on top of what is stored,
 * so one tab saving does not drop another tab's unsent messages.
 */
import type { PendingSend, SendStatus } from '../state/model';

const PREFIX = 'chat.outbox.v1.';
const STATUSES: readonly SendStatus[] = ['queued', 'sending', 'failed'];

/** The part of the Web Storage API used here (a Map-backed fake in tests). */
export type KeyValueStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export interface Outbox {
  /** The stored unsent messages of a user, ready to queue again ("sending" comes back as "queued"). */
  load(userId: number): PendingSend[];
  /** Store this tab's queue: `previous` is what this tab last saved or loaded. */
  save(userId: number, previous: readonly PendingSend[], current: readonly PendingSend[]): void;
  /** Forget everything stored for the user (on sign-out). */
  clear(userId: number): void;
}

function isPending(x: unknown): x is PendingSend {
  if (!x || typeof x !== 'object') return false;
  const p = x as Record<string, unknown>;
  return (
    typeof p.clientMsgId === 'string' &&
    p.clientMsgId.length > 0 &&
    typeof p.room === 'number' &&
    typeof p.body === 'string' &&
    (p.threadId === null || typeof p.threadId === 'number') &&
    typeof p.createdAt === 'string' &&
    STATUSES.includes(p.status as SendStatus)
  );
}

function read(storage: KeyValueStorage, key: string): PendingSend[] {
  let raw: string | null;
  try {
    raw = storage.getItem(key);
  } catch {
    return [];
  }
  if (!raw) return [];
  try {
    const data: unknown = JSON.parse(raw);
    return Array.isArray(data) ? data.filter(isPending) : [];
  } catch {
    return [];
  }
}

function write(storage: KeyValueStorage, key: string, list: PendingSend[]): void {
  try {
    if (list.length) storage.setItem(key, JSON.stringify(list));
    else storage.removeItem(key);
  } catch {
    // Storage full or disabled (private mode): the queue still lives in memory.
  }
}

/** Keep only what a stored entry needs; an unacknowledged send goes back to the queue. */
function forStorage(p: PendingSend): PendingSend {
  const out: PendingSend = {
    clientMsgId: p.clientMsgId,
    room: p.room,
    body: p.body,
    threadId: p.threadId,
    createdAt: p.createdAt,
    status: p.status,
  };
  if (p.error) out.error = p.error;
  return out;
}

export function createOutbox(storage: KeyValueStorage | null): Outbox {
  const key = (userId: number) => `${PREFIX}${userId}`;
  return {
    load(userId) {
      if (!storage) return [];
      return read(storage, key(userId)).map((p) =>
        p.status === 'sending' ? { ...forStorage(p), status: 'queued' } : forStorage(p),
      );
    },
    save(userId, previous, current) {
      if (!storage) return;
      const mine = new Set(current.map((p) => p.clientMsgId));
      const removed = new Set(previous.map((p) => p.clientMsgId).filter((id) => !mine.has(id)));
      const others = read(storage, key(userId)).filter((p) => !mine.has(p.clientMsgId) && !removed.has(p.clientMsgId));
      write(storage, key(userId), [...others, ...current.map(forStorage)]);
    },
    clear(userId) {
      if (!storage) return;
      try {
        storage.removeItem(key(userId));
      } catch {
        // Nothing stored, nothing to forget.
      }
    },
  };
}

/** The browser's localStorage, or null where there is none (tests in node, blocked storage). */
export function browserStorage(): KeyValueStorage | null {
  try {
    return typeof window !== 'undefined' && window.localStorage ? window.localStorage : null;
  } catch {
    return null;
  }
}
