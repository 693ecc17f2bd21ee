import { describe, expect, it } from 'vitest';
import { BOB, BOT } from '../test/fixtures';
import { registerCommandSource, suggestCommands } from './registry';

describe('command suggestions', () => {
  it('lists active bots as /botname', () => {
    const users = [BOB, BOT, { ...BOT, id: 10, username: 'deploy', is_active: false }];
    expect(suggestCommands('', { users }).map((s) => s.label)).toEqual(['/oncall']);
    expect(suggestCommands('on', { users })[0]).toMatchObject({ insert: '/oncall ' });
  });

  it('takes more sources, first one per label wins, and lets them go', () => {
    const off = registerCommandSource({
      id: 'bot-commands',
      suggest: (q) =>
        ['/oncall who', '/oncall'].filter((l) => l.slice(1).startsWith(q)).map((label) => ({
          label,
          insert: `${label} `,
          description: 'from the catalogue',
        })),
    });
    const got = suggestCommands('on', { users: [BOT] });
    expect(got.map((s) => s.label)).toEqual(['/oncall', '/oncall who']);
    expect(got[0].description).toBe('On-call');
    off();
    expect(suggestCommands('on', { users: [BOT] }).map((s) => s.label)).toEqual(['/oncall']);
  });
});
