/**
 * REST client for /api/v1 (shared/API.md). The browser is signed in by the
 * session cookie; every non-GET call carries the csrftoken cookie back in
 * the X-CSRFToken header.
 */
import type { BotInfo, Message, Page, Room, SearchPage, SearchSort, User } from '../types';
import { readCookie } from './cookies';
import { dropPrefetched, takePrefetched } from './prefetch';

export { readCookie };

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: Record<string, unknown> = {},
    readonly retryAfter: number | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ApiOptions {
  fetch?: typeof fetch;
  base?: string;
  /** Where the CSRF token cookie is read from (document.cookie in the browser). */
  cookies?: () => string;
  /** Answers started before the app ran, by URL (net/prefetch.ts's by default). */
  prefetched?: (url: string) => Promise<Response> | undefined;
  /** Forget those not taken yet. */
  dropPrefetched?: () => void;
}


export interface HistoryQuery {
  limit?: number;
  before?: number;
  after?: number;
  around?: number;
}

export type Api = ReturnType<typeof createApi>;

/** What PATCH /rooms/{id} may change. */
export type RoomChanges = Partial<Pick<Room, 'name' | 'topic' | 'archived' | 'visibility' | 'posting_policy'>>;

export function createApi(options: ApiOptions = {}) {
  const doFetch = options.fetch ?? ((...args: Parameters<typeof fetch>) => fetch(...args));
  const base = options.base ?? '/api/v1';
  const cookies = options.cookies ?? (() => (typeof document === 'undefined' ? '' : document.cookie));
  const prefetched = options.prefetched ?? ((url: string) => takePrefetched(url));
  const dropEarly = options.dropPrefetched ?? dropPrefetched;

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method !== 'GET') {
      const token = readCookie(cookies(), 'csrftoken');
      if (token) headers['X-CSRFToken'] = token;
    }
    let res: Response;
    let early: Promise<Response> | undefined;
    try {
      // The boot's early answer for this URL, if there is one (net/prefetch.ts).
      early = method === 'GET' ? prefetched(base + path) : undefined;
      res = await (early ?? doFetch(base + path, {
        method,
        headers,
        credentials: 'same-origin',
        body: body === undefined ? undefined : JSON.stringify(body),
      }));
    } catch {
      throw new ApiError(0, 'network', 'Cannot reach the server.');
    }
    // An early answer saying "not signed in": the others were asked for by the
    // same signed-out page, and a sign-in now must not be shown them.
    if (early && res.status === 401) dropEarly();
    const text = await res.text();
    let data: unknown = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!res.ok) throw toError(res, data);
    return data as T;
  }

  const qs = (params: Record<string, string | number | undefined>) => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') p.set(k, String(v));
    const s = p.toString();
    return s ? `?${s}` : '';
  };

  return {
    /** Any call under the base (the admin area builds its own calls on it). */
    request: call,
    /** A query string from the set values (empty ones left out). */
    query: qs,
    /**
     * False when the browser surely is not signed in (no csrftoken cookie: it
     * is set at sign-in), which spares a 401 (and its console line) on the
     * first visit.
     */
    maybeSignedIn: () => readCookie(cookies(), 'csrftoken') != null,
    login: (username: string, password: string) =>
      call<{ token?: string; user: User }>('POST', '/auth/login', { username, password }),
    logout: () => call<unknown>('POST', '/auth/logout', {}),
    me: () => call<User & { user_seq?: number }>('GET', '/users/me'),
    /** One's own profile; timezone "" (or null) goes back to the site's zone. */
    updateMe: (changes: { display_name?: string; timezone?: string | null }) =>
      call<User>('PATCH', '/users/me', changes),
    users: (q = '') => call<Page<User>>('GET', `/users${qs({ q })}`),

    rooms: () => call<Page<Room>>('GET', '/rooms'),
    room: (id: number) => call<Room>('GET', `/rooms/${id}`),
    createRoom: (data: { name: string; topic: string; visibility: 'public' | 'private' }) =>
      call<Room>('POST', '/rooms', data),
    updateRoom: (id: number, data: RoomChanges) =>
      call<Room>('PATCH', `/rooms/${id}`, data),
    joinRoom: (id: number) => call<Room | null>('POST', `/rooms/${id}/join`, {}),
    leaveRoom: (id: number) => call<unknown>('POST', `/rooms/${id}/leave`, {}),
    members: (id: number) => call<Page<User>>('GET', `/rooms/${id}/members`),
    addMembers: (id: number, userIds: number[]) =>
      call<unknown>('POST', `/rooms/${id}/members`, userIds.length === 1 ? { user_id: userIds[0] } : { user_ids: userIds }),
    removeMember: (id: number, userId: number) => call<unknown>('DELETE', `/rooms/${id}/members/${userId}`),
    openDm: (userIds: number[]) => call<Room>('POST', '/dms', { user_ids: userIds }),

    messages: (roomId: number, query: HistoryQuery) =>
      call<Page<Message> & { last_seq?: number }>('GET', `/rooms/${roomId}/messages${qs({ ...query })}`),
    replies: (messageId: number, after?: number) =>
      call<Page<Message>>('GET', `/messages/${messageId}/replies${qs({ limit: 200, after })}`),
    postMessage: (roomId: number, body: string, clientMsgId: string, threadId?: number | null) =>
      call<Message>('POST', `/rooms/${roomId}/messages`, {
        body,
        client_msg_id: clientMsgId,
        ...(threadId != null ? { thread_id: threadId } : {}),
      }),
    editMessage: (id: number, body: string) => call<Message>('PATCH', `/messages/${id}`, { body }),
    deleteMessage: (id: number) => call<unknown>('DELETE', `/messages/${id}`),
    addReaction: (id: number, emoji: string) => call<unknown>('POST', `/messages/${id}/reactions`, { emoji }),
    removeReaction: (id: number, emoji: string) =>
      call<unknown>('DELETE', `/messages/${id}/reactions/${encodeURIComponent(emoji)}`),
    pins: (roomId: number) => call<Page<Message>>('GET', `/rooms/${roomId}/pins`),
    pin: (roomId: number, messageId: number) =>
      call<Message>('POST', `/rooms/${roomId}/messages/${messageId}/pin`),
    unpin: (roomId: number, messageId: number) =>
      call<unknown>('DELETE', `/rooms/${roomId}/messages/${messageId}/pin`),
    markRead: (roomId: number, seq: number) => call<unknown>('POST', `/rooms/${roomId}/read`, { seq }),
    bots: () => call<{ results: BotInfo[] }>('GET', '/bots'),
    search: (q: string, options: { sort?: SearchSort; cursor?: string | null; limit?: number } = {}) =>
      call<SearchPage>(
        'GET',
        `/search${qs({
          q,
          sort: options.sort === 'recent' ? 'recent' : undefined,
          cursor: options.cursor ?? undefined,
          limit: options.limit,
        })}`,
      ),
  };
}

function toError(res: Response, data: unknown): ApiError {
  const err = (data as { error?: { code?: string; message?: string; fields?: Record<string, unknown> } } | null)
    ?.error;
  const retry = res.headers.get('Retry-After');
  return new ApiError(
    res.status,
    err?.code ?? `http_${res.status}`,
    err?.message ?? defaultMessage(res.status),
    err?.fields ?? {},
    retry ? Number(retry) : null,
  );
}

function defaultMessage(status: number): string {
  if (status === 401) return 'You are not signed in.';
  if (status === 403) return 'You are not allowed to do that.';
  if (status === 404) return 'Not found.';
  if (status === 413) return 'That is too large.';
  if (status === 429) return 'Too many requests; try again shortly.';
  return `The server answered ${status}.`;
}

/** Turn an error into one line for the user, with field errors if any. */
export function describeError(e: unknown): string {
  if (e instanceof ApiError) {
    const fields = Object.entries(e.fields)
      .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(' ') : String(v)}`)
      .join('; ');
    return fields ? `${e.message} (${fields})` : e.message;
  }
  return e instanceof Error ? e.message : String(e);
}
