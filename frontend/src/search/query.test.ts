import { describe, expect, it } from 'vitest';
import { BOB, BOT, makeRoom, ME } from '../test/fixtures';
import { applySuggestion, searchSuggestions, wordAt } from './query';

const rooms = [
  makeRoom({ id: 10, name: 'ops' }),
  makeRoom({ id: 11, name: 'ops-alerts', joined: false }),
  makeRoom({ id: 12, name: 'secret-ops', visibility: 'private' }),
  makeRoom({ id: 13, name: '', visibility: 'direct' }),
  makeRoom({ id: 14, name: 'random' }),
];
const users = [ME, BOB, BOT];

const at = (text: string) => searchSuggestions(text, text.length, rooms, users);

describe('search suggestions', () => {
  it('completes rooms after in:# (prefix matches first, joined before not joined)', () => {
    const got = at('deploy in:#op');
    expect(got.map((s) => s.insert)).toEqual(['in:#ops', 'in:#ops-alerts', 'in:#secret-ops']);
    expect(got[1].detail).toBe('not joined');
    expect(got[2].detail).toBe('private');
    expect(at('in:').map((s) => s.label)).toEqual(['#ops', '#random', '#secret-ops', '#ops-alerts']);
  });

  it('completes people after from:@, by username or display name, negated too', () => {
    expect(at('from:@b').map((s) => s.insert)).toEqual(['from:@bob']);
    expect(at('from:on').map((s) => s.insert)).toEqual(['from:@oncall']);
    expect(at('from:@on')[0].detail).toBe('On-call · bot');
    expect(at('x -from:@an').map((s) => s.insert)).toEqual(['-from:@ann']);
    expect(at('-in:#rand').map((s) => s.insert)).toEqual(['-in:#random']);
  });

  it('offers operators for their first letters, not for plain words', () => {
    expect(at('ha').map((s) => s.insert)).toEqual(['has:link', 'has:code', 'has:reaction']);
    expect(at('is:').map((s) => s.insert)).toEqual([]);
    expect(at('is').map((s) => s.insert)).toEqual(['is:thread', 'is:mentioned']);
    expect(at('deploy')).toEqual([]);
    expect(at('h')).toEqual([]);
    expect(at('has:link')).toEqual([]);
  });

  it('looks at the word under the caret only', () => {
    const text = 'in:#op deploy';
    expect(searchSuggestions(text, 6, rooms, users).map((s) => s.insert)).toContain('in:#ops');
    expect(searchSuggestions(text, text.length, rooms, users)).toEqual([]);
    expect(wordAt(text, 2)).toEqual({ word: 'in', start: 0, end: 6 });
  });
});

describe('applySuggestion', () => {
  it('replaces the word and adds a space after a complete operator', () => {
    expect(applySuggestion('deploy in:#op', 13, 'in:#ops')).toEqual({ text: 'deploy in:#ops ', caret: 15 });
    expect(applySuggestion('in:#op deploy', 5, 'in:#ops')).toEqual({ text: 'in:#ops deploy', caret: 8 });
  });

  it('leaves the caret right after an open operator', () => {
    expect(applySuggestion('deploy be', 9, 'before:')).toEqual({ text: 'deploy before:', caret: 14 });
  });
});
