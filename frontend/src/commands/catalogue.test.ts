import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BOTS_RETRY_MS, ChatSession } from '../app/session';
import { createApi } from '../net/api';
import { createStore } from '../state/store';
import { createFakeSocket, FakeSocket } from '../test/fakeSocket';
import { BOT, makeRoom, ME } from '../test/fixtures';
import type { BotInfo } from '../types';
import { suggestCommands } from './registry';

const CATALOGUE: BotInfo[] = [
  {
    id: 20,
    username: 'deploy',
    display_name: 'Deploy',
    description: 'Ships services',
    commands: [
      { name: 'rollout', usage: 'rollout <service> <env> [--force]', description: 'Deploy a build' },
      { name: 'rollback', usage: 'rollback <service>', description: 'Back to the last good build' },
      { name: 'status', usage: 'status [service]', description: 'What runs where' },
    ],
  },
  { id: 21, username: 'help', display_name: 'Help', description: 'Lists every bot', commands: [] },
];

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

/** A session over the real REST client, whose fetch answers /bots as given. */
async function sessionWith(bots: () => Response) {
  const fetch = vi.fn(async (url: RequestInfo | URL) => {
    const path = String(url);
    if (path === '/api/v1/users/me') return json(200, ME);
    if (path === '/api/v1/rooms') return json(200, { results: [makeRoom()], next: null });
    if (path.startsWith('/api/v1/users')) return json(200, { results: [ME, BOT], next: null });
    if (path === '/api/v1/bots') return bots();
    return json(404, { error: { code: 'not_found', message: 'Not found.' } });
  });
  let now = 1_000_000;
  const session = new ChatSession({
    store: createStore(),
    api: createApi({ fetch, cookies: () => 'csrftoken=t' }),
    createSocket: createFakeSocket,
    socketUrl: 'ws://test/ws/',
    now: () => now,
  });
  await session.boot();
  const ctx = () => ({ users: Object.values(session.state.users), bots: session.state.bots });
  const botCalls = () => fetch.mock.calls.filter(([u]) => String(u) === '/api/v1/bots').length;
  return { session, ctx, botCalls, advance: (ms: number) => (now += ms) };
}

describe('bot catalogue suggestions', () => {
  beforeEach(() => FakeSocket.reset());
  afterEach(() => vi.restoreAllMocks());

  it('offers bot names, then the commands of the typed bot with their usage', async () => {
    const { session, ctx, botCalls } = await sessionWith(() => json(200, { results: CATALOGUE, next: null }));
    await session.loadBots();
    await session.loadBots();
    expect(botCalls()).toBe(1);

    // Bot names: the catalogue's, then directory bots it does not list.
    const names = suggestCommands('', ctx());
    expect(names.map((s) => s.label)).toEqual(['/deploy', '/help', '/oncall']);
    expect(names[0]).toMatchObject({ insert: '/deploy ', description: 'Ships services' });
    expect(suggestCommands('de', ctx()).map((s) => s.label)).toEqual(['/deploy']);

    // Its commands once the name is typed.
    const cmds = suggestCommands('deploy ', ctx());
    expect(cmds.map((s) => s.label)).toEqual(['/deploy rollout', '/deploy rollback', '/deploy status']);
    expect(cmds[0]).toMatchObject({
      insert: '/deploy rollout ',
      usage: 'rollout <service> <env> [--force]',
      description: 'Deploy a build',
    });
    expect(suggestCommands('deploy roll', ctx()).map((s) => s.label)).toEqual(['/deploy rollout', '/deploy rollback']);
    expect(suggestCommands('DEPLOY st', ctx()).map((s) => s.insert)).toEqual(['/deploy status ']);
    expect(suggestCommands('deploy zzz', ctx())).toEqual([]);
    expect(suggestCommands('nobot st', ctx())).toEqual([]);
  });

  it('offers nothing from a server without GET /bots (404), and does not ask again', async () => {
    const { session, ctx, botCalls } = await sessionWith(() =>
      json(404, { error: { code: 'not_found', message: 'Not found.' } }),
    );
    await session.loadBots();
    expect(session.state.bots).toEqual([]);
    expect(suggestCommands('deploy ', ctx())).toEqual([]);
    // Directory bots are still offered by name.
    expect(suggestCommands('', ctx()).map((s) => s.label)).toEqual(['/oncall']);
    await session.loadBots();
    expect(botCalls()).toBe(1);
  });

  it('retries a failed load later, not on every keystroke', async () => {
    let fail = true;
    const { session, ctx, botCalls, advance } = await sessionWith(() =>
      fail ? json(502, {}) : json(200, { results: CATALOGUE, next: null }),
    );
    await session.loadBots();
    expect(session.state.bots).toBeNull();
    await session.loadBots();
    expect(botCalls()).toBe(1);
    fail = false;
    advance(BOTS_RETRY_MS);
    await session.loadBots();
    expect(botCalls()).toBe(2);
    expect(suggestCommands('deploy s', ctx()).map((s) => s.label)).toEqual(['/deploy status']);
  });

  it('skips malformed catalogue entries', async () => {
    const { session, ctx } = await sessionWith(() =>
      json(200, { results: [{ username: 'broken' }, CATALOGUE[0], null], next: null }),
    );
    await session.loadBots();
    expect(session.state.bots?.map((b) => b.username)).toEqual(['deploy']);
    expect(suggestCommands('', ctx()).map((s) => s.label)).toEqual(['/deploy', '/oncall']);
  });
});
