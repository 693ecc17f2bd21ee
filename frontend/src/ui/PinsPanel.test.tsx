// @vitest-environment jsdom
import { cleanup, fireEvent, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { reduce } from '../state/reducer';
import { BOB, makeMessage, makeRoom, startedState } from '../test/fixtures';
import { renderWith, stubSession } from '../test/render';
import { PinsPanel } from './PinsPanel';

afterEach(() => {
  cleanup();
  window.location.hash = '';
});

const ROOM = 10;

function withPins(room = makeRoom()) {
  const top = makeMessage({ id: 21, body: 'freeze until Friday', pinned_at: '2026-01-05T09:00:00Z', pinned_by: BOB.id });
  const reply = makeMessage({ id: 22, body: '<b>rollback</b> plan', thread_id: 20, pinned_at: '2026-01-05T12:00:00Z', pinned_by: BOB.id });
  let s = reduce(startedState([room]), { type: 'users/loaded', users: [BOB] });
  s = reduce(s, { type: 'pins/loaded', roomId: ROOM, messages: [top, reply] });
  return s;
}

describe('PinsPanel', () => {
  it('loads the pins when they are not loaded yet', () => {
    const session = stubSession(startedState());
    renderWith(session, <PinsPanel roomId={ROOM} onClose={vi.fn()} onOpenThread={vi.fn()} />);
    expect(session.loadPins).toHaveBeenCalledWith(ROOM);
  });

  it('lists the pins newest first, as text, with who pinned them', () => {
    const session = stubSession(withPins());
    renderWith(session, <PinsPanel roomId={ROOM} onClose={vi.fn()} onOpenThread={vi.fn()} />);
    expect(session.loadPins).not.toHaveBeenCalled();
    const items = screen.getAllByTestId('pin-item');
    expect(items.map((i) => i.getAttribute('data-message-id'))).toEqual(['22', '21']);
    expect(screen.getAllByTestId('pin-body')[0].textContent).toBe('<b>rollback</b> plan');
    expect(screen.getAllByTestId('pin-body')[0].querySelector('b')).toBeNull();
    expect(screen.getAllByTestId('pin-meta')[1].textContent).toContain('Pinned by Bob');
  });

  it('jumps to a message, and to a reply through its thread', () => {
    const onClose = vi.fn();
    const onOpenThread = vi.fn();
    renderWith(stubSession(withPins()), <PinsPanel roomId={ROOM} onClose={onClose} onOpenThread={onOpenThread} />);
    const [reply, top] = screen.getAllByTestId('pin-jump');
    fireEvent.click(top);
    expect(window.location.hash).toBe('#/room/10/message/21');
    expect(onOpenThread).not.toHaveBeenCalled();
    fireEvent.click(reply);
    expect(window.location.hash).toBe('#/room/10/message/20');
    expect(onOpenThread).toHaveBeenCalledWith(20);
    expect(onClose).toHaveBeenCalledTimes(2);
  });

  it('unpins where I may pin; not in an archived room', () => {
    const session = stubSession(withPins());
    renderWith(session, <PinsPanel roomId={ROOM} onClose={vi.fn()} onOpenThread={vi.fn()} />);
    fireEvent.click(screen.getAllByTestId('pin-unpin')[1]);
    expect(session.togglePin).toHaveBeenCalledWith(expect.objectContaining({ id: 21 }));
    cleanup();
    renderWith(stubSession(withPins(makeRoom({ archived: true }))), <PinsPanel roomId={ROOM} onClose={vi.fn()} onOpenThread={vi.fn()} />);
    expect(screen.queryByTestId('pin-unpin')).toBeNull();
  });

  it('says when nothing is pinned, and closes on Escape', () => {
    const onClose = vi.fn();
    const s = reduce(startedState(), { type: 'pins/loaded', roomId: ROOM, messages: [] });
    renderWith(stubSession(s), <PinsPanel roomId={ROOM} onClose={onClose} onOpenThread={vi.fn()} />);
    expect(screen.getByTestId('pins-empty')).toBeTruthy();
    fireEvent.keyDown(screen.getByTestId('pins-panel'), { key: 'Escape' });
    expect(onClose).toHaveBeenCalled();
  });
});
