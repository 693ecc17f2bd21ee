// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChatSession } from '../app/session';
import { createApi } from '../net/api';
import { reduce } from '../state/reducer';
import { createStore } from '../state/store';
import { createFakeSocket } from '../test/fakeSocket';
import { ME, startedState } from '../test/fixtures';
import { renderWith } from '../test/render';
import { Profile, zoneNames } from './Profile';

afterEach(cleanup);

type Answer = { status: number; body: unknown };

/** A real session and REST client over a fetch that answers PATCH /users/me. */
function setup(answer: (sent: Record<string, unknown>) => Answer) {
  const sent: Record<string, unknown>[] = [];
  const fetch = vi.fn(async (url: RequestInfo | URL, init?: RequestInit) => {
    const u = new URL(String(url), 'http://chat.test');
    expect([init?.method, u.pathname]).toEqual(['PATCH', '/api/v1/users/me']);
    const body = JSON.parse(String(init?.body));
    sent.push(body);
    const a = answer(body);
    return new Response(JSON.stringify(a.body), { status: a.status });
  });
  const store = createStore(reduce(startedState(), { type: 'me/updated', me: { ...ME, timezone: 'UTC' } }));
  const session = new ChatSession({
    store,
    api: createApi({ fetch, cookies: () => 'csrftoken=t' }),
    createSocket: createFakeSocket,
    socketUrl: 'ws://test/ws/',
  });
  const onClose = vi.fn();
  renderWith(session, <Profile onClose={onClose} />);
  return { sent, store, onClose };
}

describe('profile', () => {
  it('saves a new time zone and updates me', async () => {
    const { sent, store, onClose } = setup((b) => ({ status: 200, body: { ...ME, ...b } }));
    const select = screen.getByTestId('profile-timezone') as HTMLSelectElement;
    expect(select.value).toBe('UTC');
    fireEvent.change(select, { target: { value: 'America/New_York' } });
    fireEvent.click(screen.getByTestId('profile-save'));
    await waitFor(() => expect(onClose).toHaveBeenCalled());
    expect(sent).toEqual([{ display_name: 'Ann', timezone: 'America/New_York' }]);
    expect(store.getState().me?.timezone).toBe('America/New_York');
    expect(store.getState().users[ME.id].timezone).toBe('America/New_York');
  });

  it('sends the zone only when it changed', async () => {
    const { sent, onClose } = setup((b) => ({ status: 200, body: { ...ME, ...b, timezone: 'UTC' } }));
    fireEvent.change(screen.getByTestId('profile-name'), { target: { value: '  Annie ' } });
    fireEvent.click(screen.getByTestId('profile-save'));
    await waitFor(() => expect(onClose).toHaveBeenCalled());
    expect(sent).toEqual([{ display_name: 'Annie' }]);
  });

  it("shows the server's reason and stays open", async () => {
    const message = 'timezone must be an IANA time zone name such as Europe/Paris (or empty for the site\'s).';
    const { store, onClose } = setup(() => ({
      status: 400,
      body: { error: { code: 'invalid', message, fields: { timezone: 'invalid' } } },
    }));
    fireEvent.change(screen.getByTestId('profile-timezone'), { target: { value: '' } });
    fireEvent.click(screen.getByTestId('profile-save'));
    await waitFor(() => expect(screen.getByTestId('profile-error').textContent).toBe(`${message} (timezone: invalid)`));
    expect(onClose).not.toHaveBeenCalled();
    expect(store.getState().me?.timezone).toBe('UTC');
  });

  it('lists the browser zones with UTC and the current one', () => {
    const zones = zoneNames('Mars/Base');
    expect(zones).toContain('UTC');
    expect(zones).toContain('Europe/Paris');
    expect(zones).toContain('Mars/Base');
    expect(zones).toEqual([...zones].sort());
  });
});
