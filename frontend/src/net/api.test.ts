import { describe, expect, it, vi } from 'vitest';
import { ApiError, createApi, describeError, readCookie } from './api';

function fakeFetch(status = 200, body: unknown = {}, headers: Record<string, string> = {}) {
  return vi.fn(async (_url: RequestInfo | URL, _init?: RequestInit) =>
    new Response(body === null ? null : JSON.stringify(body), { status, headers }),
  );
}

const cookies = () => 'sessionid=abc; csrftoken=tok%3D1; other=x';

describe('readCookie', () => {
  it('finds and decodes a cookie', () => {
    expect(readCookie(cookies(), 'csrftoken')).toBe('tok=1');
    expect(readCookie(cookies(), 'missing')).toBeNull();
  });
});

describe('api client', () => {
  it('guesses whether a sign-in may exist from the csrftoken cookie', () => {
    expect(createApi({ fetch: fakeFetch(), cookies }).maybeSignedIn()).toBe(true);
    expect(createApi({ fetch: fakeFetch(), cookies: () => 'a=b' }).maybeSignedIn()).toBe(false);
  });

  it('sends the CSRF token on writes, with same-origin credentials', async () => {
    const fetch = fakeFetch(201, { id: 1 });
    const api = createApi({ fetch, cookies });
    await api.postMessage(3, 'hi', 'cid-1');
    const [url, init] = fetch.mock.calls[0];
    expect(url).toBe('/api/v1/rooms/3/messages');
    expect(init?.method).toBe('POST');
    expect(init?.credentials).toBe('same-origin');
    expect((init?.headers as Record<string, string>)['X-CSRFToken']).toBe('tok=1');
    expect(JSON.parse(init?.body as string)).toEqual({ body: 'hi', client_msg_id: 'cid-1' });
  });

  it('sends no CSRF header on reads and builds query strings', async () => {
    const fetch = fakeFetch(200, { results: [], next: null });
    const api = createApi({ fetch, cookies });
    await api.messages(4, { limit: 50, before: 99 });
    const [url, init] = fetch.mock.calls[0];
    expect(url).toBe('/api/v1/rooms/4/messages?limit=50&before=99');
    expect((init?.headers as Record<string, string>)['X-CSRFToken']).toBeUndefined();
    await api.users('');
    expect(fetch.mock.calls[1][0]).toBe('/api/v1/users');
  });

  it('turns the error body into an ApiError', async () => {
    const fetch = fakeFetch(400, { error: { code: 'invalid', message: 'Bad name', fields: { name: ['too long'] } } });
    const api = createApi({ fetch, cookies });
    const err = await api.createRoom({ name: 'x', topic: '', visibility: 'public' }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 400, code: 'invalid', message: 'Bad name' });
    expect(describeError(err)).toBe('Bad name (name: too long)');
  });

  it('copes with error answers that are not JSON', async () => {
    const fetch = vi.fn(async () => new Response('<html>oops</html>', { status: 502 }));
    const err = await createApi({ fetch, cookies }).rooms().catch((e) => e);
    expect(err).toMatchObject({ status: 502, code: 'http_502' });
  });

  it('reads Retry-After on 429', async () => {
    const fetch = fakeFetch(429, { error: { code: 'rate_limited', message: 'Slow down' } }, { 'Retry-After': '7' });
    const err = (await createApi({ fetch, cookies }).markRead(1, 2).catch((e) => e)) as ApiError;
    expect(err.retryAfter).toBe(7);
  });

  it('reports a network failure as status 0', async () => {
    const fetch = vi.fn(async () => {
      throw new TypeError('Failed to fetch');
    });
    const err = await createApi({ fetch, cookies }).me().catch((e) => e);
    expect(err).toMatchObject({ status: 0, code: 'network' });
  });

  it('encodes the emoji in the reaction path', async () => {
    const fetch = fakeFetch(204, null);
    await createApi({ fetch, cookies }).removeReaction(5, '👍');
    expect(fetch.mock.calls[0][0]).toBe(`/api/v1/messages/5/reactions/${encodeURIComponent('👍')}`);
  });

  it('adds one member or several', async () => {
    const fetch = fakeFetch(200, {});
    const api = createApi({ fetch, cookies });
    await api.addMembers(2, [7]);
    await api.addMembers(2, [7, 8]);
    expect(JSON.parse(fetch.mock.calls[0][1]?.body as string)).toEqual({ user_id: 7 });
    expect(JSON.parse(fetch.mock.calls[1][1]?.body as string)).toEqual({ user_ids: [7, 8] });
  });
});
