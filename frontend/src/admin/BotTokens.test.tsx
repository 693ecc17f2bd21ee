// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { startedState } from '../test/fixtures';
import { renderWith, stubSession } from '../test/render';
import { adminApi, type AccountToken, type AdminUser } from './api';
import { BotAccounts } from './BotTokens';
import { fakeServer, type Call } from './testServer';

const botUser = (id: number, username: string): AdminUser => ({
  id, username, display_name: username, is_bot: true, role: 'member', is_active: true, last_login: null, date_joined: null,
});

function setup(extra: (c: Call) => { status?: number; body?: unknown } | undefined = () => undefined) {
  const bots = [botUser(7, 'deploybot')];
  const tokens: AccountToken[] = [{ id: 3, name: 'old', created_at: '2026-01-01T00:00:00Z', last_used_at: null }];
  const server = fakeServer((c) => {
    const own = extra(c);
    if (own) return own;
    if (c.method === 'GET' && c.path === '/admin/users') return { body: { results: bots, next: null } };
    if (c.method === 'POST' && c.path === '/users') {
      const body = c.body as { username: string };
      const made = botUser(8, body.username);
      bots.push(made);
      return { status: 201, body: made };
    }
    const m = /^\/admin\/users\/(\d+)\/tokens(?:\/(\d+))?$/.exec(c.path);
    if (m && c.method === 'GET') return { body: { results: Number(m[1]) === 7 ? tokens : [], next: null } };
    if (m && c.method === 'POST') {
      const t: AccountToken = { id: 4, name: (c.body as { name: string }).name, created_at: '2026-01-02T00:00:00Z', last_used_at: null };
      tokens.push(t);
      return { status: 201, body: { ...t, token: 'ct_secret_value' } };
    }
    if (m && c.method === 'DELETE') {
      const at = tokens.findIndex((t) => t.id === Number(m[2]));
      if (at < 0) return { status: 404, body: { error: { code: 'not_found', message: 'Token not found.', fields: {} } } };
      tokens.splice(at, 1);
      return { status: 204 };
    }
    return undefined;
  });
  const session = stubSession(startedState(), { api: server.api });
  renderWith(session, <BotAccounts api={adminApi(server.api)} />);
  return server;
}

describe('BotAccounts', () => {
  afterEach(cleanup);

  it('lists bot accounts only, issues a token shown once, lists it without its value, revokes after confirming', async () => {
    const { calls } = setup();
    const row = await screen.findByTestId('bot-account-7');
    expect(Object.fromEntries(calls[0].params)).toEqual({ bot: 'true', active: 'true' });
    fireEvent.click(within(row).getByTestId('bot-tokens-open'));
    const panel = await screen.findByTestId('bot-tokens');
    await within(panel).findByTestId('token-3');

    fireEvent.change(within(panel).getByTestId('token-name'), { target: { value: ' ci runner ' } });
    fireEvent.submit(within(panel).getByTestId('token-create').closest('form')!);
    const secret = (await screen.findByTestId('bot-token')) as HTMLInputElement;
    expect(secret.value).toBe('ct_secret_value');
    expect(calls.find((c) => c.method === 'POST')).toMatchObject({ path: '/admin/users/7/tokens', body: { name: 'ci runner' } });
    const fresh = await within(panel).findByTestId('token-4');
    expect(fresh.textContent).toContain('ci runner');
    expect(screen.getByTestId('token-list').textContent).not.toContain('ct_secret_value');

    fireEvent.click(within(fresh).getByTestId('token-revoke'));
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false);
    fireEvent.click(within(fresh).getByTestId('confirm-token-revoke'));
    await waitFor(() => expect(screen.queryByTestId('token-4')).toBeNull());
    expect(calls.find((c) => c.method === 'DELETE')?.path).toBe('/admin/users/7/tokens/4');
    // The once-shown value goes away with the token it belonged to.
    expect(screen.queryByTestId('bot-token')).toBeNull();
    expect(screen.getByTestId('token-3')).toBeTruthy();
  });

  it("shows the server's reason next to the token name", async () => {
    setup((c) =>
      c.method === 'POST' && c.path.endsWith('/tokens')
        ? { status: 400, body: { error: { code: 'invalid', message: 'name: 1-100 characters, no control characters.', fields: { name: 'invalid' } } } }
        : undefined,
    );
    fireEvent.click(within(await screen.findByTestId('bot-account-7')).getByTestId('bot-tokens-open'));
    const panel = await screen.findByTestId('bot-tokens');
    fireEvent.change(within(panel).getByTestId('token-name'), { target: { value: 'x' } });
    fireEvent.submit(within(panel).getByTestId('token-create').closest('form')!);
    expect((await within(panel).findByTestId('field-error-name')).textContent).toBe('invalid');
    expect(within(panel).getByTestId('tokens-error').textContent).toContain('no control characters');
    expect(screen.queryByTestId('bot-token')).toBeNull();
  });

  it('creates an external bot account (is_bot, no password) and opens its tokens', async () => {
    const { calls } = setup();
    await screen.findByTestId('bot-account-7');
    fireEvent.change(screen.getByTestId('new-bot-username'), { target: { value: 'ci-bot ' } });
    fireEvent.change(screen.getByTestId('new-bot-display'), { target: { value: 'CI' } });
    fireEvent.submit(screen.getByTestId('new-bot-form'));
    await screen.findByTestId('bot-account-8');
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ username: 'ci-bot', display_name: 'CI', is_bot: true });
    expect((await screen.findByTestId('bot-tokens')).getAttribute('data-bot-id')).toBe('8');
    expect(await screen.findByTestId('token-empty')).toBeTruthy();
  });

  it('shows a 409 on the username field', async () => {
    setup((c) =>
      c.method === 'POST' && c.path === '/users'
        ? { status: 409, body: { error: { code: 'conflict', message: 'That username is taken.', fields: { username: 'taken' } } } }
        : undefined,
    );
    await screen.findByTestId('bot-account-7');
    fireEvent.change(screen.getByTestId('new-bot-username'), { target: { value: 'deploybot' } });
    fireEvent.submit(screen.getByTestId('new-bot-form'));
    expect((await screen.findByTestId('field-error-username')).textContent).toBe('taken');
    expect(screen.getByTestId('new-bot-error').textContent).toContain('That username is taken.');
  });
});
