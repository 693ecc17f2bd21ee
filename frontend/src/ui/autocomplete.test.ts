import { describe, expect, it } from 'vitest';
import { BOB, BOT, ME } from '../test/fixtures';
import { completeToken, tokenAt } from './autocomplete';
import { mentionSuggestions } from './mentions';

describe('tokenAt', () => {
  it('finds an @mention being typed anywhere', () => {
    expect(tokenAt('hi @bo', 6)).toEqual({ kind: 'mention', query: 'bo', start: 3, end: 6 });
    expect(tokenAt('@', 1)).toEqual({ kind: 'mention', query: '', start: 0, end: 1 });
  });

  it('finds a /command only as the first word', () => {
    expect(tokenAt('/dep', 4)).toEqual({ kind: 'command', query: 'dep', start: 0, end: 4 });
    expect(tokenAt('run /dep', 8)).toBeNull();
  });

  it('finds a bot command as the second word after /botname', () => {
    expect(tokenAt('/deploy ro', 10)).toEqual({ kind: 'command', query: 'deploy ro', start: 0, end: 10 });
    expect(tokenAt('/deploy ', 8)).toEqual({ kind: 'command', query: 'deploy ', start: 0, end: 8 });
    expect(tokenAt('/deploy rollout api', 19)).toBeNull();
    expect(completeToken('/deploy ro', { kind: 'command', query: 'deploy ro', start: 0, end: 10 }, '/deploy rollout ')).toEqual({
      text: '/deploy rollout ',
      caret: 16,
    });
  });

  it('ignores e-mail addresses and plain words', () => {
    expect(tokenAt('mail a@b', 8)).toBeNull();
    expect(tokenAt('hello', 5)).toBeNull();
  });
});

describe('completeToken', () => {
  it('replaces the token and adds one space', () => {
    expect(completeToken('hi @bo', { kind: 'mention', query: 'bo', start: 3, end: 6 }, '@bob ')).toEqual({
      text: 'hi @bob ',
      caret: 8,
    });
  });

  it('replaces the rest of the word under the caret and keeps what follows', () => {
    const t = tokenAt('hi @bo there', 5)!;
    expect(completeToken('hi @bo there', t, '@bob')).toEqual({ text: 'hi @bob there', caret: 8 });
  });
});

describe('mentionSuggestions', () => {
  const users = { [ME.id]: ME, [BOB.id]: BOB, [BOT.id]: BOT, 44: { ...BOB, id: 44, username: 'bobby', display_name: 'Robert' } };

  it('puts room members first and leaves me out', () => {
    const got = mentionSuggestions('bo', users, [44], ME.id).map((s) => s.label);
    expect(got).toEqual(['@bobby', '@bob']);
    expect(mentionSuggestions('', users, [], ME.id).map((s) => s.label)).not.toContain('@ann');
  });

  it('matches display names word by word and tags bots', () => {
    expect(mentionSuggestions('call', users, [], ME.id)).toEqual([]);
    const s = mentionSuggestions('on', users, [], ME.id);
    expect(s.map((x) => x.label)).toEqual(['@oncall']);
    expect(s[0].detail).toContain('bot');
  });
});
