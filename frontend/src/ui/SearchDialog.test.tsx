// @vitest-environment jsdom
import { act, cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createApi } from '../net/api';
import { reduce } from '../state/reducer';
import { BOB, BOT, makeMessage, makeRoom, startedState } from '../test/fixtures';
import { renderWith, stubSession } from '../test/render';
import type { SearchResult } from '../types';
import { isSearchKey } from './Layout';
import { SearchDialog } from './SearchDialog';

const hit = (id: number, highlight: string, over: Partial<SearchResult['message']> = {}, roomId = 10): SearchResult => ({
  message: makeMessage({ id, room: roomId, body: 'x', ...over }),
  room: { id: roomId, name: roomId === 10 ? 'ops' : 'elsewhere', visibility: 'public', joined: roomId === 10 },
  highlight,
});

type Answer = { status?: number; body: unknown };

/** The real REST client over a fetch that answers /search from a queue and records the queries. */
function setup(answers: Answer[]) {
  const asked: URLSearchParams[] = [];
  const fetch = vi.fn(async (url: RequestInfo | URL) => {
    const u = new URL(String(url), 'http://chat.test');
    if (u.pathname === '/api/v1/search') {
      asked.push(u.searchParams);
      const a = answers.shift() ?? { body: { results: [], next: null } };
      return new Response(JSON.stringify(a.body), { status: a.status ?? 200 });
    }
    if (u.pathname === '/api/v1/rooms/77') {
      return new Response(JSON.stringify(makeRoom({ id: 77, name: 'elsewhere', joined: false })), { status: 200 });
    }
    return new Response(JSON.stringify({ results: [], next: null }), { status: 200 });
  });
  const api = createApi({ fetch, cookies: () => 'csrftoken=t' });
  let state = reduce(startedState(), { type: 'users/loaded', users: [BOB, BOT] });
  state = reduce(state, { type: 'room/upserted', room: makeRoom({ id: 12, name: 'random' }) });
  const session = stubSession(state, {
    api,
    ensureRoom: vi.fn(async (id: number) => {
      session.store.dispatch({ type: 'room/upserted', room: await api.room(id) });
    }),
  });
  const onClose = vi.fn();
  const view = renderWith(session, <SearchDialog onClose={onClose} />);
  const input = screen.getByTestId('search-input') as HTMLInputElement;
  const type = (value: string) => fireEvent.change(input, { target: { value, selectionStart: value.length } });
  return { session, onClose, input, type, asked, fetch, view };
}

describe('SearchDialog', () => {
  beforeEach(() => {
    window.location.hash = '';
  });
  afterEach(cleanup);

  it('shows the operators while empty; a hint adds its operator to the query', () => {
    const { input } = setup([]);
    const hints = screen.getAllByTestId('search-hint').map((b) => b.getAttribute('data-operator'));
    expect(hints).toEqual(expect.arrayContaining(['in:#', 'from:@', 'before:', 'has:link', 'is:thread', '"', '-']));
    fireEvent.click(screen.getAllByTestId('search-hint').find((b) => b.getAttribute('data-operator') === 'has:code')!);
    expect(input.value).toBe('has:code');
  });

  it('searches as the query settles and shows highlighted snippets as text', async () => {
    const { type, asked, view } = setup([
      {
        body: {
          results: [
            hit(55, 'the <mark>deploy</mark> of &lt;b&gt;api&lt;/b&gt; <img src=x onerror="window.__pwned=1">'),
            hit(56, 'second <mark>deploy</mark>'),
          ],
          next: null,
        },
      },
    ]);
    type('deploy');
    const results = await screen.findAllByTestId('search-result');
    expect(asked).toHaveLength(1);
    expect(asked[0].get('q')).toBe('deploy');
    expect(asked[0].get('sort')).toBeNull();
    expect(results.map((r) => r.getAttribute('data-message-id'))).toEqual(['55', '56']);
    const snippet = screen.getAllByTestId('search-snippet')[0];
    expect([...snippet.querySelectorAll('mark')].map((m) => m.textContent)).toEqual(['deploy']);
    expect(snippet.textContent).toBe('the deploy of <b>api</b> <img src=x onerror="window.__pwned=1">');
    // Nothing but <mark> and the text spans came out of the snippet.
    expect(view.container.querySelector('.search-snippet img, .search-snippet b')).toBeNull();
    expect([...snippet.querySelectorAll('*')].every((el) => el.tagName === 'MARK' || el.tagName === 'SPAN')).toBe(true);
    expect(results[0].textContent).toContain('#ops');
  });

  it('asks for the newest first, pages with the cursor, and reports plain-word hints', async () => {
    const { type, asked } = setup([
      { body: { results: [hit(1, '<mark>a</mark>')], next: null } },
      { body: { results: [hit(3, '<mark>a</mark> 3')], next: 'c2', hints: ['color: is not a search operator; it was searched as text.', 'Words too common to search for: the.'] } },
      { body: { results: [hit(2, '<mark>a</mark> 2')], next: null } },
    ]);
    type('a color:red');
    await screen.findAllByTestId('search-result');
    fireEvent.click(screen.getByTestId('search-sort-recent'));
    await waitFor(() => expect(asked).toHaveLength(2));
    expect(asked[1].get('sort')).toBe('recent');
    const hints = await screen.findByTestId('search-server-hints');
    expect([...hints.querySelectorAll('p')].map((p) => p.textContent)).toEqual([
      'color: is not a search operator; it was searched as text.',
      'Words too common to search for: the.',
    ]);
    await waitFor(() => expect(screen.getAllByTestId('search-result').map((r) => r.getAttribute('data-message-id'))).toEqual(['3']));
    fireEvent.click(screen.getByTestId('search-more'));
    await waitFor(() =>
      expect(screen.getAllByTestId('search-result').map((r) => r.getAttribute('data-message-id'))).toEqual(['3', '2']),
    );
    expect(asked[2].get('cursor')).toBe('c2');
    expect(asked[2].get('sort')).toBe('recent');
    expect(asked[2].get('q')).toBe('a color:red');
    expect(screen.queryByTestId('search-more')).toBeNull();
  });

  it('opens a result in its room at the message; a reply at its thread root', async () => {
    const { type, onClose } = setup([
      { body: { results: [hit(55, '<mark>x</mark>'), hit(60, 'reply <mark>x</mark>', { thread_id: 42 })], next: null } },
    ]);
    type('x');
    const results = await screen.findAllByTestId('search-result');
    fireEvent.click(results[1]);
    await waitFor(() => expect(onClose).toHaveBeenCalled());
    expect(window.location.hash).toBe('#/room/10/message/42');
  });

  it('walks the results with the arrows and opens one with Enter', async () => {
    const { type, input, onClose } = setup([
      { body: { results: [hit(55, '<mark>x</mark>'), hit(56, '<mark>x</mark>')], next: null } },
    ]);
    type('x');
    await screen.findAllByTestId('search-result');
    fireEvent.keyDown(input, { key: 'ArrowDown' });
    fireEvent.keyDown(input, { key: 'ArrowDown' });
    expect(screen.getAllByTestId('search-result')[1].className).toContain('active');
    expect(input.getAttribute('aria-activedescendant')).toBe('search-result-1');
    fireEvent.keyDown(input, { key: 'Enter' });
    await waitFor(() => expect(onClose).toHaveBeenCalled());
    expect(window.location.hash).toBe('#/room/10/message/56');
  });

  it('loads a public room it did not know before opening it', async () => {
    const { type, session, onClose } = setup([{ body: { results: [hit(90, '<mark>x</mark>', {}, 77)], next: null } }]);
    type('x');
    const [result] = await screen.findAllByTestId('search-result');
    expect(result.textContent).toContain('(not joined)');
    fireEvent.click(result);
    await waitFor(() => expect(onClose).toHaveBeenCalled());
    expect(session.ensureRoom).toHaveBeenCalledWith(77);
    expect(session.state.rooms[77]?.name).toBe('elsewhere');
    expect(window.location.hash).toBe('#/room/77/message/90');
  });

  it('completes rooms and people in operators', () => {
    const { type, input } = setup([]);
    type('deploy in:#ra');
    expect(screen.getAllByTestId('search-suggestion').map((li) => li.getAttribute('data-value'))).toEqual(['in:#random']);
    fireEvent.keyDown(input, { key: 'Enter' });
    expect(input.value).toBe('deploy in:#random ');
    type('deploy in:#random from:@on');
    expect(screen.getAllByTestId('search-suggestion').map((li) => li.getAttribute('data-value'))).toEqual(['from:@oncall']);
    fireEvent.keyDown(input, { key: 'Escape' });
    expect(screen.queryByTestId('search-suggestions')).toBeNull();
  });

  it('shows the server refusing a query, and says when nothing matched', async () => {
    const { type } = setup([
      { status: 400, body: { error: { code: 'invalid', message: 'Bad date in before:.', fields: {} } } },
      { body: { results: [], next: null } },
    ]);
    type('before:2026-13-45');
    expect((await screen.findByTestId('search-error')).textContent).toBe('Bad date in before:.');
    type('nothing-like-this');
    expect((await screen.findByTestId('search-empty')).textContent).toContain('nothing-like-this');
  });

  it('drops an answer that a newer query overtook', async () => {
    vi.useFakeTimers();
    try {
      let release: (r: Response) => void = () => undefined;
      const { type, fetch } = setup([]);
      fetch.mockImplementationOnce(() => new Promise<Response>((r) => (release = r)));
      type('old');
      await act(async () => vi.advanceTimersByTimeAsync(400));
      type('new');
      await act(async () => vi.advanceTimersByTimeAsync(400));
      release(new Response(JSON.stringify({ results: [hit(1, '<mark>old</mark>')], next: null })));
      await act(async () => vi.advanceTimersByTimeAsync(10));
      expect(screen.queryAllByTestId('search-result')).toHaveLength(0);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('isSearchKey', () => {
  const key = (init: KeyboardEventInit, target?: HTMLElement) => {
    const e = new KeyboardEvent('keydown', init);
    if (target) Object.defineProperty(e, 'target', { value: target });
    return e;
  };

  it('opens on Ctrl+K or Cmd+K anywhere, and on / outside text fields', () => {
    expect(isSearchKey(key({ key: 'k', ctrlKey: true }))).toBe(true);
    expect(isSearchKey(key({ key: 'K', metaKey: true }, document.createElement('textarea')))).toBe(true);
    expect(isSearchKey(key({ key: '/' }, document.createElement('div')))).toBe(true);
    expect(isSearchKey(key({ key: '/' }, document.createElement('textarea')))).toBe(false);
    expect(isSearchKey(key({ key: '/' }, document.createElement('input')))).toBe(false);
    expect(isSearchKey(key({ key: 'k' }))).toBe(false);
  });
});
