// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { startedState } from '../test/fixtures';
import { renderWith, stubSession } from '../test/render';
import { adminApi, type AuditEntry } from './api';
import { AuditPanel } from './AuditPanel';
import { fakeServer } from './testServer';

const entry = (id: number, action: string): AuditEntry => ({
  id, at: '2026-01-01T00:00:00Z', actor: 1, actor_username: 'ann', action, target: `user:${id}`,
  room: null, ip: '10.0.0.1', detail: { role: 'guest' },
});

describe('AuditPanel', () => {
  afterEach(cleanup);

  it('asks the server with the filters, shows the rows and keeps the export links in step', async () => {
    const { api, calls } = fakeServer((c) =>
      c.path === '/admin/audit'
        ? { body: { results: c.params.get('action') === 'user.' ? [entry(2, 'user.deactivated')] : [entry(2, 'user.deactivated'), entry(1, 'room.created')], next: null } }
        : undefined,
    );
    renderWith(stubSession(startedState(), { api }), <AuditPanel api={adminApi(api)} />);
    await waitFor(() => expect(screen.getAllByTestId('audit-entry')).toHaveLength(2));
    fireEvent.change(screen.getByTestId('audit-action'), { target: { value: 'user.' } });
    fireEvent.change(screen.getByTestId('audit-since'), { target: { value: '2026-01-02T03:04' } });
    await waitFor(() => expect(screen.getAllByTestId('audit-entry')).toHaveLength(1));
    const last = calls.filter((c) => c.path === '/admin/audit').at(-1)!;
    expect(last.params.get('action')).toBe('user.');
    expect(last.params.get('since')).toBe(new Date('2026-01-02T03:04').toISOString());
    const csv = new URL(screen.getByTestId('audit-export-csv').getAttribute('href')!, 'http://x');
    expect(csv.searchParams.get('format')).toBe('csv');
    expect(csv.searchParams.get('action')).toBe('user.');
    expect(csv.searchParams.get('since')).toBe(last.params.get('since'));
    expect(screen.getByTestId('audit-entry').getAttribute('data-action')).toBe('user.deactivated');
    expect(screen.getByTestId('audit-entry').textContent).toContain('10.0.0.1');
    // Clicking an actor narrows the log to them.
    fireEvent.click(screen.getByTestId('audit-pick-actor'));
    expect((screen.getByTestId('audit-actor') as HTMLInputElement).value).toBe('1');
    await waitFor(() => expect(calls.filter((c) => c.path === '/admin/audit').at(-1)!.params.get('actor')).toBe('1'));
  });

  it('shows a bad filter as the server words it', async () => {
    const { api } = fakeServer((c) =>
      c.params.get('room') === 'x'
        ? { status: 400, body: { error: { code: 'invalid', message: 'room must be an id.', fields: {} } } }
        : undefined,
    );
    renderWith(stubSession(startedState(), { api }), <AuditPanel api={adminApi(api)} />);
    fireEvent.change(screen.getByTestId('audit-room'), { target: { value: 'x' } });
    expect((await screen.findByTestId('admin-error')).textContent).toBe('room must be an id.');
  });
});
