/** A fake /api/v1 for the admin components: routes by method and path, records every call. */
import { vi } from 'vitest';
import { createApi } from '../net/api';

export interface Call {
  method: string;
  path: string;
  params: URLSearchParams;
  body: unknown;
}

export type Handler = (call: Call) => { status?: number; body?: unknown } | undefined;

export function fakeServer(handler: Handler) {
  const calls: Call[] = [];
  const fetch = vi.fn(async (url: RequestInfo | URL, init?: RequestInit) => {
    const u = new URL(String(url), 'http://chat.test');
    const call: Call = {
      method: init?.method ?? 'GET',
      path: u.pathname.replace(/^\/api\/v1/, ''),
      params: u.searchParams,
      body: init?.body ? JSON.parse(String(init.body)) : undefined,
    };
    calls.push(call);
    const answer = handler(call) ?? { body: { results: [], next: null } };
    const status = answer.status ?? 200;
    return new Response(status === 204 ? null : JSON.stringify(answer.body ?? {}), { status });
  });
  const api = createApi({ fetch, cookies: () => 'csrftoken=t' });
  return { api, calls, fetch };
}
