// @vitest-environment jsdom
import { cleanup, fireEvent, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { reduce } from '../state/reducer';
import { BOB, BOT, startedState } from '../test/fixtures';
import { renderWith, stubSession } from '../test/render';
import { Composer } from './Composer';

afterEach(cleanup);

function setup() {
  const state = reduce(startedState(), { type: 'users/loaded', users: [BOB, BOT] });
  const session = stubSession(state);
  renderWith(session, <Composer roomId={10} threadId={null} placeholder="Message" testId="composer" />);
  const input = screen.getByTestId('composer-input') as HTMLTextAreaElement;
  const type = (value: string) => fireEvent.change(input, { target: { value, selectionStart: value.length } });
  return { session, input, type };
}

describe('Composer', () => {
  it('sends on Enter and clears', () => {
    const { session, input, type } = setup();
    type('hello there ');
    fireEvent.keyDown(input, { key: 'Enter' });
    expect(session.send).toHaveBeenCalledWith(10, 'hello there', null);
    expect(input.value).toBe('');
  });

  it('does not send on Shift+Enter', () => {
    const { session, input, type } = setup();
    type('line one');
    fireEvent.keyDown(input, { key: 'Enter', shiftKey: true });
    expect(session.send).not.toHaveBeenCalled();
  });

  it('tells the room I am typing', () => {
    const { session, type } = setup();
    type('h');
    expect(session.notifyTyping).toHaveBeenCalledWith(10);
  });

  it('refuses bodies over 10,000 characters', () => {
    const { session, input, type } = setup();
    type('x'.repeat(10_001));
    fireEvent.keyDown(input, { key: 'Enter' });
    expect(session.send).not.toHaveBeenCalled();
    expect(screen.getByTestId('composer-error').textContent).toContain('too long');
  });

  it('completes @mentions from the people it knows', () => {
    const { session, input, type } = setup();
    type('ping @bo');
    const items = screen.getAllByTestId('autocomplete-item').map((li) => li.getAttribute('data-value'));
    expect(items).toEqual(['@bob']);
    fireEvent.keyDown(input, { key: 'Enter' });
    expect(input.value).toBe('ping @bob ');
    expect(session.send).not.toHaveBeenCalled();
  });

  it('lists bots as /commands at the start of a message', () => {
    const { input, type } = setup();
    type('/on');
    expect(screen.getAllByTestId('autocomplete-item').map((li) => li.getAttribute('data-value'))).toEqual(['/oncall']);
    fireEvent.keyDown(input, { key: 'Tab' });
    expect(input.value).toBe('/oncall ');
  });

  it('completes a bot command from the catalogue and shows its usage', () => {
    const state = reduce(reduce(startedState(), { type: 'users/loaded', users: [BOB, BOT] }), {
      type: 'bots/loaded',
      bots: [
        {
          id: 20,
          username: 'deploy',
          display_name: 'Deploy',
          description: 'Ships services',
          commands: [{ name: 'rollout', usage: 'rollout <service> [--force]', description: 'Deploy a build' }],
        },
      ],
    });
    const session = stubSession(state);
    renderWith(session, <Composer roomId={10} threadId={null} placeholder="Message" testId="composer" />);
    const input = screen.getByTestId('composer-input') as HTMLTextAreaElement;
    const type = (value: string) => fireEvent.change(input, { target: { value, selectionStart: value.length } });
    type('/de');
    expect(session.loadBots).toHaveBeenCalled();
    expect(screen.getAllByTestId('autocomplete-item').map((li) => li.getAttribute('data-value'))).toEqual(['/deploy']);
    fireEvent.keyDown(input, { key: 'Enter' });
    expect(input.value).toBe('/deploy ');
    type('/deploy r');
    expect(screen.getAllByTestId('autocomplete-item').map((li) => li.getAttribute('data-value'))).toEqual([
      '/deploy rollout',
    ]);
    expect(screen.getByTestId('autocomplete-usage').textContent).toBe('rollout <service> [--force]');
    fireEvent.keyDown(input, { key: 'Tab' });
    expect(input.value).toBe('/deploy rollout ');
    expect(session.send).not.toHaveBeenCalled();
  });

  it('closes the suggestions on Escape', () => {
    const { input, type } = setup();
    type('@');
    expect(screen.queryByTestId('autocomplete')).toBeTruthy();
    fireEvent.keyDown(input, { key: 'Escape' });
    expect(screen.queryByTestId('autocomplete')).toBeNull();
  });
});
