// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { startedState } from '../test/fixtures';
import { renderWith, stubSession } from '../test/render';
import type { AdminBot, Webhook } from './api';
import RoomIntegrations from './RoomIntegrations';
import { fakeServer } from './testServer';

const bot: AdminBot = { id: 9, username: 'helpbot', display_name: 'Help', description: '', commands: [], paused: false };

function setup() {
  const hooks: Webhook[] = [];
  const enabled = new Set<number>();
  const server = fakeServer((c) => {
    if (c.path === '/bots') return { body: { results: [bot], next: null } };
    if (c.path === '/rooms/10/bots') return { body: { results: enabled.has(9) ? [bot] : [], next: null } };
    if (c.method === 'PUT' && c.path === '/rooms/10/bots/9') {
      enabled.add(9);
      return { body: { enabled: true } };
    }
    if (c.method === 'DELETE' && c.path === '/rooms/10/bots/9') {
      enabled.delete(9);
      return { status: 204 };
    }
    if (c.method === 'GET' && c.path === '/rooms/10/webhooks') return { body: { results: hooks, next: null } };
    if (c.method === 'POST' && c.path === '/rooms/10/webhooks') {
      const hook: Webhook = { id: 4, room: 10, name: 'CI', kind: 'incoming', created_at: '', token_hint: 'ab12…', url: null };
      hooks.push(hook);
      return { status: 201, body: { ...hook, url: 'http://chat.test/hooks/secret-token', token: 'secret-token' } };
    }
    if (c.method === 'DELETE' && c.path === '/rooms/10/webhooks/4') {
      hooks.pop();
      return { status: 204 };
    }
    return undefined;
  });
  const session = stubSession(startedState(), { api: server.api });
  renderWith(session, <RoomIntegrations roomId={10} />);
  return server;
}

describe('RoomIntegrations', () => {
  afterEach(cleanup);

  it('enables and disables a bot in the room', async () => {
    const { calls } = setup();
    const row = await screen.findByTestId('room-bot-9');
    expect(row.getAttribute('data-enabled')).toBe('false');
    fireEvent.click(within(row).getByTestId('room-bot-toggle'));
    await waitFor(() => expect(row.getAttribute('data-enabled')).toBe('true'));
    fireEvent.click(within(row).getByTestId('room-bot-toggle'));
    await waitFor(() => expect(row.getAttribute('data-enabled')).toBe('false'));
    expect(calls.filter((c) => c.path === '/rooms/10/bots/9').map((c) => c.method)).toEqual(['PUT', 'DELETE']);
  });

  it('shows a new hook URL once; the list shows only the hint; revoke removes it', async () => {
    const { calls } = setup();
    fireEvent.change(screen.getByTestId('webhook-name'), { target: { value: ' CI ' } });
    fireEvent.submit(screen.getByTestId('webhook-create').closest('form')!);
    expect(((await screen.findByTestId('webhook-url')) as HTMLInputElement).value).toBe('http://chat.test/hooks/secret-token');
    expect((screen.getByTestId('webhook-token') as HTMLInputElement).value).toBe('secret-token');
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ name: 'CI', kind: 'incoming' });
    const row = await screen.findByTestId('webhook-4');
    expect(row.textContent).toContain('ab12…');
    expect(row.textContent).not.toContain('secret-token');
    fireEvent.click(within(row).getByTestId('webhook-revoke'));
    await waitFor(() => expect(screen.queryByTestId('webhook-4')).toBeNull());
  });
});
