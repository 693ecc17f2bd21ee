import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { jumpHash } from '../app/route';
import { describeError } from '../net/api';
import { canPin } from '../state/selectors';
import type { Message } from '../types';
import { useChat, useSession } from './context';
import { fullTime } from './format';
import { Icon } from './icons';
import { toast } from './toast';

const EXCERPT = 280;

interface Props {
  roomId: number;
  onClose: () => void;
  onOpenThread: (rootId: number) => void;
}

/** The room's pinned messages, most recently pinned first, each with a jump to it. */
export function PinsPanel({ roomId, onClose, onOpenThread }: Props) {
  const session = useSession();
  const pins = useChat((s) => s.pins[roomId]);
  const room = useChat((s) => s.rooms[roomId]);
  const me = useChat((s) => s.me);
  const users = useChat((s) => s.users);
  const [error, setError] = useState<string | null>(null);
  const panel = useRef<HTMLElement>(null);

  const loaded = pins !== undefined;
  useEffect(() => {
    if (loaded) return;
    setError(null);
    session.loadPins(roomId).catch((e) => setError(describeError(e)));
  }, [session, roomId, loaded]);

  // Names of the people who pinned: the room's members, unless known already.
  const membersKnown = useChat((s) => s.roomMembers[roomId] !== undefined);
  useEffect(() => {
    if (!membersKnown) session.loadMembers(roomId).catch(() => undefined);
  }, [session, roomId, membersKnown]);

  useEffect(() => {
    panel.current?.focus();
  }, []);

  function jump(m: Message) {
    window.location.hash = jumpHash(m);
    if (m.thread_id != null) onOpenThread(m.thread_id);
    onClose();
  }

  async function unpin(m: Message) {
    try {
      await session.togglePin(m);
    } catch (e) {
      toast(`Cannot unpin: ${describeError(e)}`);
    }
  }

  function onKeyDown(e: KeyboardEvent) {
    if (e.key === 'Escape') {
      e.stopPropagation();
      onClose();
    }
  }

  const mayUnpin = canPin(me, room);
  return (
    <section className="pins-panel" aria-label="Pinned messages" data-testid="pins-panel" tabIndex={-1} ref={panel} onKeyDown={onKeyDown}>
      <header className="pins-header">
        <h2>Pinned{loaded ? ` (${pins.length})` : ''}</h2>
        <button type="button" className="icon-button" aria-label="Close pinned messages" onClick={onClose} data-testid="pins-close"><Icon name="close" /></button>
      </header>
      {error && (
        <p className="notice error" role="alert">
          {error}
        </p>
      )}
      {!loaded && !error && <p className="list-edge">Loading pinned messages…</p>}
      {loaded && pins.length === 0 && (
        <p className="notice" data-testid="pins-empty">
          Nothing is pinned here yet. Pin a message from its actions menu.
        </p>
      )}
      {loaded && pins.length > 0 && (
        <ul className="pins-list" data-testid="pins-list">
          {pins.map((m) => {
            const by = m.pinned_by != null ? users[m.pinned_by] : undefined;
            const text = m.body.length > EXCERPT ? `${m.body.slice(0, EXCERPT)}…` : m.body;
            return (
              <li key={m.id} className="pin-item" data-testid="pin-item" data-message-id={m.id}>
                <div className="pin-head">
                  <span className="author">{m.author.display_name || m.author.username}</span>
                  <time dateTime={m.created_at} title={fullTime(m.created_at)}>
                    {fullTime(m.created_at)}
                  </time>
                </div>
                {/* Plain text: server HTML goes into the page in one place only (MessageItem). */}
                <p className="pin-body" data-testid="pin-body">
                  {text}
                </p>
                <div className="pin-foot">
                  <span className="pin-meta" data-testid="pin-meta">
                    {m.thread_id != null ? 'In a thread · ' : ''}Pinned
                    {by ? ` by ${by.display_name || by.username}` : ''}
                    {m.pinned_at ? ` · ${fullTime(m.pinned_at)}` : ''}
                  </span>
                  <button type="button" className="link-button" onClick={() => jump(m)} data-testid="pin-jump">
                    Jump
                  </button>
                  {mayUnpin && (
                    <button type="button" className="link-button" onClick={() => void unpin(m)} data-testid="pin-unpin">
                      Unpin
                    </button>
                  )}
                </div>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
