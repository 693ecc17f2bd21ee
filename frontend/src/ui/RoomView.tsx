import { useEffect, useRef, useState } from 'react';
import { describeError } from '../net/api';
import { canManageRoom, canPost, roomTitle } from '../state/selectors';
import { Composer } from './Composer';
import { useChat, useSession } from './context';
import { Icon } from './icons';
import { MessageList } from './MessageList';
import { PinsPanel } from './PinsPanel';
import { toast } from './toast';
import { TypingIndicator } from './TypingIndicator';

interface Props {
  roomId: number;
  messageId: number | null;
  onOpenThread: (rootId: number) => void;
  onToggleSidebar: () => void;
  onOpenSettings: () => void;
  onOpenSearch: () => void;
}

export function RoomView({ roomId, messageId, onOpenThread, onToggleSidebar, onOpenSettings, onOpenSearch }: Props) {
  const session = useSession();
  const room = useChat((s) => s.rooms[roomId]);
  const me = useChat((s) => s.me);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirmLeave, setConfirmLeave] = useState(false);
  const [showPins, setShowPins] = useState(false);
  const pinCount = useChat((s) => s.pins[roomId]?.length);
  // Where I had read up to when the room opened: the "new" line goes after it.
  const readAtOpen = useRef(room?.last_read_seq ?? 0);

  useEffect(() => {
    setLoadError(null);
    const load = messageId != null ? session.jumpTo(roomId, messageId) : session.openRoom(roomId);
    load.catch((e) => setLoadError(describeError(e)));
  }, [session, roomId, messageId, room?.joined]);

  if (!room) return null;
  const title = roomTitle(room, me);

  async function join() {
    setBusy(true);
    try {
      await session.joinRoom(roomId);
    } catch (e) {
      toast(`Cannot join: ${describeError(e)}`);
    } finally {
      setBusy(false);
    }
  }

  async function leave() {
    setConfirmLeave(false);
    try {
      await session.leaveRoom(roomId);
    } catch (e) {
      toast(`Cannot leave: ${describeError(e)}`);
    }
  }

  return (
    <section className="room-view" data-testid="room-view" data-room-id={roomId}>
      <header className="room-header">
        <button type="button" className="icon-button menu-button" aria-label="Rooms" onClick={onToggleSidebar} data-testid="toggle-sidebar"><Icon name="menu" size={20} /></button>
        <div className="room-heading">
          <h1 data-testid="room-title">
            {room.visibility === 'private' ? '🔒 ' : room.visibility === 'public' ? '# ' : ''}
            {title}
          </h1>
          {room.topic && (
            <p className="room-topic" data-testid="room-topic" title={room.topic}>
              {room.topic}
            </p>
          )}
        </div>
        <span className="room-members" title="Members">
          {room.member_count} {room.member_count === 1 ? 'member' : 'members'}
        </span>
        <button
          type="button"
          className={`icon-button pins-button${showPins ? ' active' : ''}`}
          aria-label="Pinned messages"
          title="Pinned messages"
          aria-pressed={showPins}
          onClick={() => setShowPins((open) => !open)}
          data-testid="room-pins-button"
        >
          <Icon name="pin" size={18} />
          {pinCount ? <span className="pins-count">{pinCount}</span> : null}
        </button>
        <button type="button" className="icon-button" aria-label="Search messages" title="Search messages (Ctrl+K)" onClick={onOpenSearch} data-testid="room-search-button"><Icon name="search" size={18} /></button>
        {canManageRoom(me, room) && (
          <button type="button" className="icon-button" aria-label="Room settings" title="Room settings" onClick={onOpenSettings} data-testid="room-settings-button"><Icon name="gear" size={18} /></button>
        )}
        {room.joined && room.visibility !== 'direct' &&
          (confirmLeave ? (
            <span className="confirm-inline">
              <button type="button" className="danger" onClick={() => void leave()} data-testid="confirm-leave">
                Leave {title}
              </button>
              <button type="button" className="link-button" onClick={() => setConfirmLeave(false)}>
                Stay
              </button>
            </span>
          ) : (
            <button type="button" className="link-button" onClick={() => setConfirmLeave(true)} data-testid="leave-room">
              Leave
            </button>
          ))}
      </header>
      {showPins && <PinsPanel roomId={roomId} onClose={() => setShowPins(false)} onOpenThread={onOpenThread} />}
      {room.archived && (
        <div className="notice" data-testid="archived-notice">
          This room is archived: it is read-only.
        </div>
      )}
      {loadError && (
        <div className="notice error" role="alert">
          {loadError}
        </div>
      )}
      <MessageList roomId={roomId} focusId={messageId} readAtOpen={readAtOpen.current} onOpenThread={onOpenThread} />
      <TypingIndicator roomId={roomId} />
      {room.joined ? (
        canPost(me, room) ? (
          <Composer roomId={roomId} threadId={null} placeholder={`Message ${title}`} testId="composer" />
        ) : (
          !room.archived && (
            <div className="notice" data-testid="posting-closed">
              Only room admins may post here.
            </div>
          )
        )
      ) : (
        <div className="join-bar">
          <span>You are not in this room.</span>
          <button type="button" onClick={() => void join()} disabled={busy} data-testid="join-room">
            Join
          </button>
        </div>
      )}
    </section>
  );
}
