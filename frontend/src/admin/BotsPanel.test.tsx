// @vitest-environment jsdom
import { cleanup, fireEvent, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { startedState } from '../test/fixtures';
import { renderWith, stubSession } from '../test/render';
import { adminApi } from './api';
import { BotsPanel } from './BotsPanel';
import { fakeServer } from './testServer';

describe('BotsPanel', () => {
  afterEach(cleanup);

  it('opens each admin data section on demand, calling only its own doors', async () => {
    const server = fakeServer((c) =>
      c.path === '/bots' ? { body: { results: [{ id: 9, username: 'help', display_name: 'Help', description: '', commands: [], paused: false }], next: null } } : undefined,
    );
    renderWith(stubSession(startedState(), { api: server.api }), <BotsPanel api={adminApi(server.api)} />);
    expect(await screen.findByTestId('admin-bot-9')).toBeTruthy();
    expect(server.calls.map((c) => c.path)).toEqual(['/bots']);
    const sections: [string, string, string][] = [
      ['tokens', 'bot-accounts', '/admin/users'],
      ['runbooks', 'runbook-actions', '/admin/bots/runbook-actions'],
      ['rotations', 'rotations', '/admin/bots/rotations'],
      ['status', 'status-endpoints', '/admin/bots/status-endpoints'],
      ['hooks', 'hook-tokens', '/admin/bots/hook-tokens'],
    ];
    for (const [key, testId, path] of sections) {
      fireEvent.click(screen.getByTestId(`bots-section-${key}`));
      expect(await screen.findByTestId(testId)).toBeTruthy();
      expect(screen.getByTestId(`bots-section-${key}`).getAttribute('aria-pressed')).toBe('true');
      expect(screen.getByTestId('admin-bots').getAttribute('data-section')).toBe(key);
      expect(server.calls.some((c) => c.path === path)).toBe(true);
    }
    fireEvent.click(screen.getByTestId('bots-section-bots'));
    expect(await screen.findByTestId('admin-bot-9')).toBeTruthy();
  });
});
