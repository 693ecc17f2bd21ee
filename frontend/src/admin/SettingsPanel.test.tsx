// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { startedState } from '../test/fixtures';
import { renderWith, stubSession } from '../test/render';
import { adminApi } from './api';
import { SettingsPanel } from './SettingsPanel';
import { fakeServer } from './testServer';

describe('SettingsPanel', () => {
  afterEach(cleanup);

  it('loads the retention, saves a number or null (forever), and shows a refusal', async () => {
    let days: number | null = 30;
    const { api, calls } = fakeServer((c) => {
      if (c.path !== '/admin/settings') return undefined;
      if (c.method === 'PATCH') {
        const asked = (c.body as { retention_days: number | null }).retention_days;
        if (asked != null && asked > 36500) {
          return { status: 400, body: { error: { code: 'invalid', message: 'retention_days must be null or 1-36500.' } } };
        }
        days = asked;
      }
      return { body: { retention_days: days, retention_last_run: null } };
    });
    renderWith(stubSession(startedState(), { api }), <SettingsPanel api={adminApi(api)} />);
    const field = screen.getByTestId('settings-retention') as HTMLInputElement;
    await waitFor(() => expect(field.value).toBe('30'));
    const form = field.closest('form')!;

    fireEvent.change(field, { target: { value: '' } });
    fireEvent.submit(form);
    await screen.findByTestId('settings-saved');
    expect(calls.at(-1)?.body).toEqual({ retention_days: null });

    fireEvent.change(field, { target: { value: '99999' } });
    fireEvent.submit(form);
    expect((await screen.findByTestId('admin-error')).textContent).toBe('retention_days must be null or 1-36500.');
    expect(days).toBeNull();
  });
});
