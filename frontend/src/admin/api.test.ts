import { describe, expect, it } from 'vitest';
import { adminApi, auditExportUrl, auditParams, grantableRoles, withZone } from './api';
import { fakeServer } from './testServer';

describe('admin api helpers', () => {
  it('only owners are offered the admin and owner roles', () => {
    expect(grantableRoles({ role: 'owner' })).toEqual(['owner', 'admin', 'member', 'guest']);
    expect(grantableRoles({ role: 'admin' })).toEqual(['member', 'guest']);
    expect(grantableRoles(null)).toEqual(['member', 'guest']);
  });

  it('sends filter times with a zone and leaves empty filters out', () => {
    expect(withZone('')).toBeUndefined();
    expect(withZone('not a time')).toBeUndefined();
    const since = withZone('2026-01-02T03:04');
    expect(since).toMatch(/^2026-01-0[12]T\d\d:04:00\.000Z$/);
    expect(auditParams({ actor: ' 4 ', action: 'user.', room: '', since: '2026-01-02T03:04', q: '  ' })).toEqual({
      actor: '4',
      action: 'user.',
      room: undefined,
      since,
      until: undefined,
      q: undefined,
    });
  });

  it('builds the export link with the same filters', () => {
    const { api } = fakeServer(() => undefined);
    const url = new URL(auditExportUrl('/api/v1', { action: 'user.', q: 'a&b' }, 'csv', api.query), 'http://x');
    expect(url.pathname).toBe('/api/v1/admin/audit/export');
    expect(Object.fromEntries(url.searchParams)).toEqual({ format: 'csv', action: 'user.', q: 'a&b' });
  });

  it('calls the documented doors with the CSRF header on writes', async () => {
    const { api, calls, fetch } = fakeServer(() => undefined);
    const a = adminApi(api);
    await a.users({ q: 'bo', role: 'guest', active: 'false', bot: '', cursor: 7 });
    await a.updateUser(5, { is_active: false });
    await a.enableBot(3, 9);
    await a.replay(3, 4, 5);
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      'GET /admin/users',
      'PATCH /users/5',
      'PUT /rooms/3/bots/9',
      'POST /rooms/3/webhooks/4/deliveries/5/replay',
    ]);
    expect(Object.fromEntries(calls[0].params)).toEqual({ q: 'bo', role: 'guest', active: 'false', cursor: '7' });
    expect(calls[1].body).toEqual({ is_active: false });
    const headers = fetch.mock.calls[1][1]?.headers as Record<string, string>;
    expect(headers['X-CSRFToken']).toBe('t');
  });

  it('calls the token and bot data doors', async () => {
    const { api, calls } = fakeServer(() => undefined);
    const a = adminApi(api);
    await a.tokens(7);
    await a.createToken(7, 'ci');
    await a.revokeToken(7, 3);
    const runbooks = a.botData('runbook-actions');
    await runbooks.list();
    await runbooks.create({ name: 'x' });
    await runbooks.update(4, { enabled: false });
    await a.botData('hook-tokens').remove(2);
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      'GET /admin/users/7/tokens',
      'POST /admin/users/7/tokens',
      'DELETE /admin/users/7/tokens/3',
      'GET /admin/bots/runbook-actions',
      'POST /admin/bots/runbook-actions',
      'PATCH /admin/bots/runbook-actions/4',
      'DELETE /admin/bots/hook-tokens/2',
    ]);
    expect(calls[1].body).toEqual({ name: 'ci' });
    expect(calls[5].body).toEqual({ enabled: false });
  });
});
