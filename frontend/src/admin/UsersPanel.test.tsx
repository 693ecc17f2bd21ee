// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { reduce } from '../state/reducer';
import { ME, startedState } from '../test/fixtures';
import { renderWith, stubSession } from '../test/render';
import type { User } from '../types';
import { adminApi, type AdminUser } from './api';
import { fakeServer, type Call } from './testServer';
import { UsersPanel } from './UsersPanel';

const person = (id: number, username: string, over: Partial<AdminUser> = {}): AdminUser => ({
  id, username, display_name: username, is_bot: false, role: 'member', is_active: true,
  last_login: null, date_joined: null, ...over,
});

function setup(me: User, handler: (c: Call) => { status?: number; body?: unknown } | undefined) {
  const people = [person(me.id, me.username, { role: me.role }), person(2, 'bob')];
  const server = fakeServer((c) => {
    const own = handler(c);
    if (own) return own;
    if (c.method === 'GET' && c.path === '/admin/users') return { body: { results: people, next: null } };
    if (c.method === 'GET' && c.path === '/admin/invites') return { body: { results: [], next: null } };
    return undefined;
  });
  const state = reduce(startedState(), { type: 'session/started', me, rooms: [] });
  const session = stubSession(state, { api: server.api });
  renderWith(session, <UsersPanel api={adminApi(server.api)} />);
  return server;
}

const ADMIN: User = { ...ME, role: 'admin' };

describe('UsersPanel', () => {
  afterEach(cleanup);

  it("shows the server's 403 when an admin tries to grant admin, and keeps the old role", async () => {
    const { calls } = setup(ADMIN, (c) =>
      c.method === 'PATCH'
        ? { status: 403, body: { error: { code: 'forbidden', message: 'Only owners may grant or change the admin and owner roles.' } } }
        : undefined,
    );
    const row = await screen.findByTestId('admin-user-2');
    fireEvent.change(within(row).getByTestId('user-role'), { target: { value: 'admin' } });
    expect((await screen.findByTestId('admin-error')).textContent).toBe('Only owners may grant or change the admin and owner roles.');
    expect(calls.find((c) => c.method === 'PATCH')).toMatchObject({ path: '/users/2', body: { role: 'admin' } });
    expect(row.getAttribute('data-role')).toBe('member');
    expect((within(row).getByTestId('user-role') as HTMLSelectElement).value).toBe('member');
    // My own row cannot be changed from here.
    expect((within(screen.getByTestId('admin-user-1')).getByTestId('user-role') as HTMLSelectElement).disabled).toBe(true);
  });

  it('deactivates only after the confirmation, then shows the new state', async () => {
    const { calls } = setup(ADMIN, (c) =>
      c.method === 'PATCH' ? { body: person(2, 'bob', { is_active: false }) } : undefined,
    );
    const row = await screen.findByTestId('admin-user-2');
    fireEvent.click(within(row).getByTestId('user-deactivate'));
    expect(calls.some((c) => c.method === 'PATCH')).toBe(false);
    fireEvent.click(within(row).getByTestId('confirm-deactivate'));
    await waitFor(() => expect(row.getAttribute('data-active')).toBe('false'));
    expect(calls.find((c) => c.method === 'PATCH')?.body).toEqual({ is_active: false });
    expect(within(row).getByTestId('user-reactivate')).toBeTruthy();
  });

  it('filters through the server', async () => {
    const { calls } = setup(ADMIN, () => undefined);
    await screen.findByTestId('admin-user-2');
    fireEvent.change(screen.getByTestId('admin-users-role'), { target: { value: 'guest' } });
    fireEvent.change(screen.getByTestId('admin-users-active'), { target: { value: 'false' } });
    await waitFor(() => {
      const last = calls.filter((c) => c.path === '/admin/users').at(-1)!;
      expect(Object.fromEntries(last.params)).toEqual({ role: 'guest', active: 'false' });
    });
  });

  it('shows a new invite link once, as a full URL, and offers admins only member and guest', async () => {
    const { calls } = setup(ADMIN, (c) =>
      c.method === 'POST' && c.path === '/admin/invites'
        ? { status: 201, body: { id: 5, role: 'guest', note: '', state: 'open', created_at: '', expires_at: '2026-01-01T00:00:00Z', used_at: null, used_by: null, token: 'inv_abc', path: '/#/invite/inv_abc' } }
        : undefined,
    );
    const roles = [...(screen.getByTestId('invite-role') as HTMLSelectElement).options].map((o) => o.value);
    expect(roles).toEqual(['member', 'guest']);
    fireEvent.change(screen.getByTestId('invite-role'), { target: { value: 'guest' } });
    fireEvent.change(screen.getByTestId('invite-hours'), { target: { value: '5' } });
    fireEvent.submit(screen.getByTestId('invite-create').closest('form')!);
    const link = (await screen.findByTestId('invite-link')) as HTMLInputElement;
    expect(link.value).toBe(`${window.location.origin}/#/invite/inv_abc`);
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ role: 'guest', expires_in_hours: 5 });
  });
});
