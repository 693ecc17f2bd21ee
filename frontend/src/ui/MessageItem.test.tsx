// @vitest-environment jsdom
import { cleanup, fireEvent, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { reduce } from '../state/reducer';
import { authoredBy, BOB, BOT, makeMessage, makeRoom, ME, startedState } from '../test/fixtures';
import { renderWith, stubSession } from '../test/render';
import { MessageItem } from './MessageItem';

afterEach(cleanup);

describe('MessageItem', () => {
  it('inserts message.html as HTML and every other server string as text', () => {
    const evil = '<img src=x onerror="window.pwned=1">';
    const message = makeMessage({
      id: 5,
      author: { id: 2, username: evil, display_name: evil, is_bot: false },
      body: '**bold**',
      html: '<p><strong>bold</strong></p>',
    });
    const { container } = renderWith(stubSession(startedState()), <MessageItem message={message} grouped={false} />);
    expect(screen.getByTestId('message-author').textContent).toBe(evil);
    expect(container.querySelector('img')).toBeNull();
    expect(screen.getByTestId('message-body').querySelector('strong')?.textContent).toBe('bold');
  });

  it('shows the body as text when there is no html', () => {
    const message = makeMessage({ body: '<b>not bold</b>', html: '' });
    renderWith(stubSession(startedState()), <MessageItem message={message} grouped={false} />);
    expect(screen.getByTestId('message-body').textContent).toBe('<b>not bold</b>');
    expect(screen.getByTestId('message-body').querySelector('b')).toBeNull();
  });

  it('marks edits and bot authors', () => {
    const message = makeMessage({ author: authoredBy(BOT), edited_at: '2026-01-05T10:01:00Z' });
    renderWith(stubSession(startedState()), <MessageItem message={message} grouped={false} />);
    expect(screen.getByTestId('bot-badge')).toBeTruthy();
    expect(screen.getByTestId('edited-marker').textContent).toBe('(edited)');
  });

  it('offers edit and delete on my own messages only', () => {
    const session = stubSession(startedState());
    const { rerender } = renderWith(session, <MessageItem message={makeMessage({ author: authoredBy(ME) })} grouped={false} />);
    expect(screen.queryByTestId('action-edit')).toBeTruthy();
    expect(screen.queryByTestId('action-delete')).toBeTruthy();
    cleanup();
    renderWith(session, <MessageItem message={makeMessage()} grouped={false} />);
    expect(screen.queryByTestId('action-edit')).toBeNull();
    expect(screen.queryByTestId('action-delete')).toBeNull();
    void rerender;
  });

  it('offers edit and delete on anyone\'s message to site admins', () => {
    const state = reduce(startedState(), { type: 'session/started', me: { ...ME, role: 'admin' }, rooms: [] });
    renderWith(stubSession(state), <MessageItem message={makeMessage()} grouped={false} />);
    expect(screen.queryByTestId('action-delete')).toBeTruthy();
  });

  it('deletes after the confirmation only', () => {
    const session = stubSession(startedState());
    const message = makeMessage({ id: 77, author: authoredBy(ME) });
    renderWith(session, <MessageItem message={message} grouped={false} />);
    fireEvent.click(screen.getByTestId('action-delete'));
    expect(session.deleteMessage).not.toHaveBeenCalled();
    fireEvent.click(screen.getByTestId('confirm-delete'));
    expect(session.deleteMessage).toHaveBeenCalledWith(77);
  });

  it('shows reactions with counts, mine pressed, and toggles on click', () => {
    const session = stubSession(startedState());
    const message = makeMessage({ reactions: [{ emoji: '👍', count: 2, users: [ME.id, 2] }] });
    renderWith(session, <MessageItem message={message} grouped={false} />);
    const r = screen.getByTestId('reaction');
    expect(r.getAttribute('aria-pressed')).toBe('true');
    expect(r.textContent).toContain('2');
    fireEvent.click(r);
    expect(session.toggleReaction).toHaveBeenCalledWith(message, '👍');
  });

  it('offers pin to members where they may post, and marks a pinned message', () => {
    const session = stubSession(reduce(startedState(), { type: 'users/loaded', users: [BOB] }));
    const message = makeMessage({ id: 81 });
    renderWith(session, <MessageItem message={message} grouped={false} />);
    expect(screen.queryByTestId('pinned-marker')).toBeNull();
    fireEvent.click(screen.getByTestId('action-pin'));
    expect(session.togglePin).toHaveBeenCalledWith(message);
    cleanup();
    const pinned = { ...message, pinned_at: '2026-01-05T11:00:00Z', pinned_by: BOB.id };
    renderWith(session, <MessageItem message={pinned} grouped />);
    expect(screen.getByTestId('pinned-marker').textContent).toContain('Pinned by Bob');
    expect(screen.getByTestId('message-81').getAttribute('data-pinned')).toBe('true');
    fireEvent.click(screen.getByTestId('action-unpin'));
    expect(session.togglePin).toHaveBeenCalledWith(pinned);
  });

  it('offers no pin where I may not post (announcements, archived, not joined)', () => {
    for (const room of [makeRoom({ posting_policy: 'admins' }), makeRoom({ archived: true }), makeRoom({ joined: false })]) {
      renderWith(stubSession(startedState([room])), <MessageItem message={makeMessage()} grouped={false} />);
      expect(screen.queryByTestId('action-pin')).toBeNull();
      cleanup();
    }
    const admin = makeRoom({ posting_policy: 'admins', role: 'admin' });
    renderWith(stubSession(startedState([admin])), <MessageItem message={makeMessage()} grouped={false} />);
    expect(screen.queryByTestId('action-pin')).toBeTruthy();
  });

  it('shows the reply count on a thread root', () => {
    renderWith(stubSession(startedState()), <MessageItem message={makeMessage({ reply_count: 3 })} grouped={false} />);
    expect(screen.getByTestId('reply-count').textContent).toBe('3 replies');
  });
});
