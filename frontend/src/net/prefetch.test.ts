import { describe, expect, it, vi } from 'vitest';
import { PAGE_SIZE } from '../app/paging';
import { createApi } from './api';
import { BOOT_WINDOW_MS, bootUrls, dropPrefetched, startPrefetch, takePrefetched } from './prefetch';

const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200 });

describe('boot prefetch', () => {
  it('asks for exactly the URLs the app asks for first', async () => {
    const asked: string[] = [];
    const fetch = vi.fn(async (url: RequestInfo | URL) => {
      asked.push(String(url));
      return json({ results: [], next: null });
    });
    const api = createApi({ fetch, cookies: () => 'csrftoken=t', prefetched: () => undefined });
    await api.me();
    await api.rooms();
    await api.messages(12, { limit: PAGE_SIZE });
    expect(bootUrls('#/room/12')).toEqual(asked);
    // No room, or a link to one message (loaded around it): no page.
    expect(bootUrls('')).toEqual(asked.slice(0, 2));
    expect(bootUrls('#/room/12/message/99')).toEqual(asked.slice(0, 2));
    expect(bootUrls('#/admin/users')).toEqual(asked.slice(0, 2));
  });

  it('hands each answer out once, while it is fresh', async () => {
    let t = 0;
    const now = () => t;
    const fetch = vi.fn(async (url: RequestInfo | URL) => json({ url: String(url) }));
    startPrefetch('#/room/3', true, fetch as typeof globalThis.fetch, now);
    expect(fetch).toHaveBeenCalledTimes(3);
    const early = takePrefetched('/api/v1/rooms', now);
    expect(await (await early!).json()).toEqual({ url: '/api/v1/rooms' });
    expect(takePrefetched('/api/v1/rooms', now)).toBeUndefined();
    t = BOOT_WINDOW_MS + 1;
    expect(takePrefetched('/api/v1/users/me', now)).toBeUndefined(); // too old: ask again
    expect(takePrefetched('/api/v1/rooms/3/messages?limit=50', now)).toBeUndefined();
  });

  it('asks for nothing without a sign-in cookie', () => {
    const fetch = vi.fn();
    startPrefetch('#/room/3', false, fetch as unknown as typeof globalThis.fetch);
    expect(fetch).not.toHaveBeenCalled();
    expect(takePrefetched('/api/v1/users/me')).toBeUndefined();
  });

  it('is what the API client reads instead of a second request, for reads only', async () => {
    const fetch = vi.fn(async () => json({ id: 1, username: 'late' }));
    const early = new Map([['/api/v1/users/me', Promise.resolve(json({ id: 1, username: 'early' }))]]);
    const api = createApi({
      fetch,
      cookies: () => 'csrftoken=t',
      prefetched: (url) => {
        const hit = early.get(url);
        early.delete(url);
        return hit;
      },
    });
    expect((await api.me()).username).toBe('early');
    expect(fetch).not.toHaveBeenCalled();
    expect((await api.me()).username).toBe('late');
    expect(fetch).toHaveBeenCalledTimes(1);
  });

  it("turns a failed early request into the client's network error", async () => {
    const api = createApi({
      fetch: vi.fn(),
      cookies: () => 'csrftoken=t',
      prefetched: () => Promise.reject(new TypeError('offline')),
    });
    await expect(api.rooms()).rejects.toMatchObject({ status: 0, code: 'network' });
  });

  it('forgets the rest once an early answer says the page was signed out', async () => {
    const signedOut = () => new Response(JSON.stringify({ error: { code: 'not_authenticated' } }), { status: 401 });
    const fetch = vi.fn(async () => signedOut());
    startPrefetch('#/room/4', true, fetch as unknown as typeof globalThis.fetch);
    const later = vi.fn(async () => json({ results: [], next: null, last_seq: 1 }));
    const api = createApi({ fetch: later, cookies: () => 'csrftoken=t' });
    await expect(api.rooms()).rejects.toMatchObject({ status: 401 });
    expect(later).not.toHaveBeenCalled(); // that one was the early answer
    // Signed in since: the room's page is asked for again, not the early 401.
    await api.messages(4, { limit: PAGE_SIZE });
    expect(later).toHaveBeenCalledTimes(1);
    dropPrefetched();
  });
});

