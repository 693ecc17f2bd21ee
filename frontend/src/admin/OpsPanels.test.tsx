// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import type { ReactElement } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { startedState } from '../test/fixtures';
import { renderWith, stubSession } from '../test/render';
import { adminApi, type AdminUser, type HookToken, type Rotation, type StatusEndpoint } from './api';
import { HookTokens, Rotations, StatusEndpoints } from './OpsPanels';
import { fakeServer, type Call } from './testServer';

type Answer = { status?: number; body?: unknown } | undefined;

const person = (id: number, username: string): AdminUser => ({
  id, username, display_name: username, is_bot: false, role: 'member', is_active: true, last_login: null, date_joined: null,
});

/** A fake collection at /admin/bots/<kind>: GET, POST, PATCH, DELETE; `reject` answers a 400 first. */
function collection<T extends { id: number }>(kind: string, items: T[], build: (body: Record<string, unknown>, id: number) => T) {
  let next = 50;
  return (c: Call): Answer => {
    if (c.path === `/admin/bots/${kind}` && c.method === 'GET') return { body: { results: items, next: null } };
    if (c.path === `/admin/bots/${kind}` && c.method === 'POST') {
      const made = build(c.body as Record<string, unknown>, next++);
      items.push(made);
      return { status: 201, body: made };
    }
    const m = new RegExp(`^/admin/bots/${kind}/(\\d+)$`).exec(c.path);
    if (!m) return undefined;
    const at = items.findIndex((x) => x.id === Number(m[1]));
    if (c.method === 'PATCH') {
      items[at] = build({ ...items[at], ...(c.body as object) }, items[at].id);
      return { body: items[at] };
    }
    if (c.method === 'DELETE') {
      items.splice(at, 1);
      return { status: 204 };
    }
    return undefined;
  };
}

function mount(ui: (api: ReturnType<typeof adminApi>) => ReactElement, handler: (c: Call) => Answer) {
  const server = fakeServer((c) => {
    const own = handler(c);
    if (own) return own;
    if (c.path === '/admin/users') return { body: { results: [person(2, 'bob'), person(3, 'cy'), person(4, 'di')], next: null } };
    if (c.path === '/admin/rooms') return { body: { results: [{ id: 10, name: 'ops', topic: '', visibility: 'public', archived: false, member_count: 3, joined: true }], next: null } };
    return undefined;
  });
  renderWith(stubSession(startedState(), { api: server.api }), ui(adminApi(server.api)));
  return server;
}

const change = (testId: string, value: string) => fireEvent.change(screen.getByTestId(testId), { target: { value } });

describe('Rotations', () => {
  afterEach(cleanup);

  function rotation(body: Record<string, unknown>, id: number): Rotation {
    const ids = (body.members as (number | { id: number; username: string })[] | undefined) ?? [];
    const names: Record<number, string> = { 2: 'bob', 3: 'cy', 4: 'di' };
    const members = ids.map((m) => (typeof m === 'number' ? { id: m, username: names[m] } : m));
    return {
      id, name: String(body.name), period: body.period as Rotation['period'], handoff: `${body.handoff}:00`.slice(0, 8), tz: String(body.tz),
      starts_on: String(body.starts_on), escalate_minutes: Number(body.escalate_minutes), room: (body.room as number | null) ?? null,
      members, on_call: members[0] ? { ...members[0], until: '2026-01-08T09:00:00Z', override: false } : null,
    };
  }

  it('creates a rotation with members in the chosen order and shows who is on call', async () => {
    const { calls } = mount((api) => <Rotations api={api} />, collection('rotations', [], rotation));
    fireEvent.click(await screen.findByTestId('rotation-new'));
    change('rot-name', 'sre');
    change('rot-period', 'daily');
    change('rot-handoff', '08:30');
    change('rot-tz', 'Europe/Berlin');
    change('rot-starts', '2026-01-05');
    change('rot-escalate', '10');
    await screen.findByText('#ops');
    change('rot-room', '10');
    await screen.findByText('@cy');
    for (const id of ['3', '2']) {
      change('rot-member-pick', id);
      fireEvent.click(screen.getByTestId('rot-member-add'));
    }
    fireEvent.click(screen.getByRole('button', { name: 'Move @bob up' }));
    fireEvent.submit(screen.getByTestId('rotation-form'));
    const row = await screen.findByTestId('rotation-50');
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({
      name: 'sre', period: 'daily', handoff: '08:30', tz: 'Europe/Berlin', starts_on: '2026-01-05', escalate_minutes: 10, room: 10, members: [2, 3],
    });
    expect(within(row).getByTestId('rotation-on-call').textContent).toBe('@bob');
    expect(row.textContent).toContain('@bob → @cy');
  });

  it("shows the server's reasons next to the time zone and members", async () => {
    mount((api) => <Rotations api={api} />, (c) =>
      c.method === 'POST'
        ? { status: 400, body: { error: { code: 'invalid', message: 'Invalid input.', fields: { tz: ["Unknown time zone 'Mars/Base'."], members: { 0: ['A valid integer is required.'] } } } } }
        : collection('rotations', [], rotation)(c),
    );
    fireEvent.click(await screen.findByTestId('rotation-new'));
    change('rot-name', 'sre');
    change('rot-tz', 'Mars/Base');
    fireEvent.submit(screen.getByTestId('rotation-form'));
    expect((await screen.findByTestId('field-error-tz')).textContent).toBe("Unknown time zone 'Mars/Base'.");
    expect(screen.getByTestId('field-error-members').textContent).toBe('0: A valid integer is required.');
    expect(screen.getByTestId('rotation-form')).toBeTruthy();
  });
});

describe('StatusEndpoints', () => {
  afterEach(cleanup);

  const endpoint = (body: Record<string, unknown>, id: number): StatusEndpoint => ({
    id, name: String(body.name), url: String(body.url), expected_status: Number(body.expected_status ?? 200), timeout_seconds: Number(body.timeout_seconds ?? 5),
    room: (body.room as number | null) ?? null, failures_before_down: Number(body.failures_before_down ?? 2), enabled: body.enabled !== false,
    up: (body.up as boolean | null) ?? null, failures: Number(body.failures ?? 0), last_status: (body.last_status as number | null) ?? null,
    last_latency_ms: (body.last_latency_ms as number | null) ?? null, last_error: String(body.last_error ?? ''), last_checked_at: (body.last_checked_at as string | null) ?? null,
  });

  it('creates an endpoint, shows its state, disables and deletes it', async () => {
    const down = endpoint({ name: 'db', url: 'https://db.example.com/h', up: false, failures: 3, last_status: 503, last_error: 'HTTP 503' }, 1);
    const { calls } = mount((api) => <StatusEndpoints api={api} />, collection('status-endpoints', [down], endpoint));
    const old = await screen.findByTestId('endpoint-1');
    expect(old.getAttribute('data-state')).toBe('down');
    expect(old.textContent).toContain('HTTP 503');
    fireEvent.click(screen.getByTestId('endpoint-new'));
    change('ep-name', 'api');
    change('ep-url', ' https://api.example.com/health ');
    change('ep-status', '204');
    change('ep-timeout', '2.5');
    change('ep-failures', '3');
    fireEvent.submit(screen.getByTestId('endpoint-form'));
    const row = await screen.findByTestId('endpoint-50');
    expect(row.getAttribute('data-state')).toBe('unknown');
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({
      name: 'api', url: 'https://api.example.com/health', expected_status: 204, timeout_seconds: 2.5, room: null, failures_before_down: 3, enabled: true,
    });
    fireEvent.click(within(row).getByTestId('endpoint-toggle'));
    await waitFor(() => expect(screen.getByTestId('endpoint-50').getAttribute('data-enabled')).toBe('false'));
    fireEvent.click(within(screen.getByTestId('endpoint-50')).getByTestId('endpoint-delete'));
    fireEvent.click(within(screen.getByTestId('endpoint-50')).getByTestId('confirm-endpoint-delete'));
    await waitFor(() => expect(screen.queryByTestId('endpoint-50')).toBeNull());
    expect(calls.at(-2)?.method).toBe('DELETE');
  });

  it('shows a refused URL next to the URL field', async () => {
    mount((api) => <StatusEndpoints api={api} />, (c) =>
      c.method === 'POST'
        ? { status: 400, body: { error: { code: 'invalid', message: 'Invalid input.', fields: { url: ['Refused: 127.0.0.1 is a loopback address.'] } } } }
        : collection('status-endpoints', [], endpoint)(c),
    );
    fireEvent.click(await screen.findByTestId('endpoint-new'));
    change('ep-name', 'local');
    change('ep-url', 'http://127.0.0.1/');
    fireEvent.submit(screen.getByTestId('endpoint-form'));
    const reason = await screen.findByTestId('field-error-url');
    expect(reason.textContent).toContain('loopback');
    expect(screen.getByTestId('ep-url').closest('label')!.contains(reason)).toBe(true);
  });
});

describe('HookTokens', () => {
  afterEach(cleanup);

  it('issues a token shown once, offers replacing it, and revokes it', async () => {
    const tokens: HookToken[] = [];
    const { calls } = mount((api) => <HookTokens api={api} />, (c) => {
      if (c.path === '/bots') return { body: { results: [{ id: 9, username: 'deploy', display_name: 'Deploy', description: '', commands: [], paused: false }], next: null } };
      if (c.method === 'POST' && c.path === '/admin/bots/hook-tokens') {
        const t = { id: 7, bot: (c.body as { bot: string }).bot, token_hint: 'bh_abcde', created_at: '2026-01-01T00:00:00Z' };
        tokens.splice(0, tokens.length, t);
        return { status: 201, body: { ...t, token: 'bh_abcdefsecret', url: 'http://chat.test/hooks/bot/deploy/<name>' } };
      }
      if (c.method === 'GET' && c.path === '/admin/bots/hook-tokens') return { body: { results: tokens, next: null } };
      if (c.method === 'DELETE' && c.path === '/admin/bots/hook-tokens/7') {
        tokens.splice(0);
        return { status: 204 };
      }
      return undefined;
    });
    await screen.findByText('@deploy');
    change('hook-token-bot', 'deploy');
    expect(screen.getByTestId('hook-token-issue').textContent).toBe('Issue token');
    fireEvent.submit(screen.getByTestId('hook-token-issue').closest('form')!);
    expect(((await screen.findByTestId('hook-token')) as HTMLInputElement).value).toBe('bh_abcdefsecret');
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ bot: 'deploy' });
    const row = await screen.findByTestId('hook-token-7');
    expect(row.textContent).toContain('bh_abcde');
    expect(row.textContent).not.toContain('secret');
    expect(screen.getByTestId('hook-token-issue').textContent).toBe('Replace token');
    fireEvent.click(within(row).getByTestId('hook-token-revoke'));
    fireEvent.click(within(row).getByTestId('confirm-hook-token-revoke'));
    await waitFor(() => expect(screen.queryByTestId('hook-token-7')).toBeNull());
    expect(screen.queryByTestId('hook-token')).toBeNull();
  });

  it('shows an unknown bot next to the bot field', async () => {
    mount((api) => <HookTokens api={api} />, (c) => {
      if (c.path === '/bots') return { body: { results: [{ id: 9, username: 'gone', display_name: '', description: '', commands: [], paused: false }], next: null } };
      if (c.method === 'POST') return { status: 400, body: { error: { code: 'invalid', message: 'Invalid input.', fields: { bot: ["No loaded bot 'gone'."] } } } };
      return undefined;
    });
    await screen.findByText('@gone');
    change('hook-token-bot', 'gone');
    fireEvent.submit(screen.getByTestId('hook-token-issue').closest('form')!);
    expect((await screen.findByTestId('field-error-bot')).textContent).toBe("No loaded bot 'gone'.");
    expect(screen.queryByTestId('hook-token')).toBeNull();
  });
});
