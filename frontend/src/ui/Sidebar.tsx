import { useMemo } from 'react';
import { adminHash, roomHash } from '../app/route';
import type { ChatState } from '../state/model';
import { dmPartners, isSiteAdmin, roomTitle, sidebarRooms } from '../state/selectors';
import type { Room } from '../types';
import { useChat, useSession } from './context';
import { Icon } from './icons';
import type { ModalKind } from './Layout';

interface Props {
  currentRoomId: number | null;
  onNavigate: () => void;
  onOpenModal: (m: ModalKind) => void;
}

const roomsOf = (s: ChatState) => s.rooms;

export function Sidebar({ currentRoomId, onNavigate, onOpenModal }: Props) {
  const session = useSession();
  const me = useChat((s) => s.me);
  const rooms = useChat(roomsOf);
  const presence = useChat((s) => s.presence);
  const { channels, directs } = useMemo(() => sidebarRooms(rooms, me), [rooms, me]);

  const item = (room: Room) => (
    <RoomLink
      key={room.id}
      room={room}
      title={roomTitle(room, me)}
      current={room.id === currentRoomId}
      online={
        room.visibility === 'direct'
          ? dmPartners(room, me).some((u) => (presence[u.id] ?? u.presence) === 'online')
          : undefined
      }
      onNavigate={onNavigate}
    />
  );

  return (
    <nav className="sidebar" aria-label="Rooms" data-testid="sidebar">
      <header className="sidebar-header">
        <button type="button" className="me" title="Your profile: name and time zone" onClick={() => onOpenModal('profile')} data-testid="me">
          <span className="dot online" aria-hidden="true" />
          <span className="me-name">{me?.display_name || me?.username}</span>
        </button>
        <button type="button" className="link-button" onClick={() => void session.logout()} data-testid="signout">
          Sign out
        </button>
      </header>
      <button type="button" className="search-launcher" onClick={() => onOpenModal('search')} data-testid="open-search">
        <Icon name="search" />
        <span>Search messages</span>
        <kbd>Ctrl K</kbd>
      </button>
      {isSiteAdmin(me) && (
        <a href={adminHash()} className="admin-link" onClick={onNavigate} data-testid="open-admin">
          Administration
        </a>
      )}
      <section className="sidebar-section">
        <div className="section-head">
          <h2>Rooms</h2>
          <div className="section-actions">
            <button type="button" className="icon-button" title="Browse public rooms" aria-label="Browse public rooms" onClick={() => onOpenModal('browse')} data-testid="browse-rooms"><Icon name="search" /></button>
            <button type="button" className="icon-button" title="Create a room" aria-label="Create a room" onClick={() => onOpenModal('create')} data-testid="create-room"><Icon name="plus" /></button>
          </div>
        </div>
        <ul className="room-list" data-testid="room-list">
          {channels.map(item)}
        </ul>
      </section>
      <section className="sidebar-section">
        <div className="section-head">
          <h2>Direct messages</h2>
          <div className="section-actions">
            <button type="button" className="icon-button" title="New direct message" aria-label="New direct message" onClick={() => onOpenModal('dm')} data-testid="new-dm"><Icon name="plus" /></button>
          </div>
        </div>
        <ul className="room-list" data-testid="dm-list">
          {directs.map(item)}
        </ul>
      </section>
    </nav>
  );
}

function RoomLink(props: { room: Room; title: string; current: boolean; online?: boolean; onNavigate: () => void }) {
  const { room, title, current, online } = props;
  const icon = room.visibility === 'direct' ? null : room.visibility === 'private' ? '🔒' : '#';
  const classes = ['room-link', room.unread > 0 ? 'unread' : '', current ? 'current' : '', room.archived ? 'archived' : '']
    .filter(Boolean)
    .join(' ');
  return (
    <li>
      <a
        href={roomHash(room.id)}
        className={classes}
        aria-current={current ? 'page' : undefined}
        onClick={props.onNavigate}
        data-testid={`room-item-${room.id}`}
        data-room-id={room.id}
        data-unread={room.unread}
        data-mentions={room.mentions}
      >
        {icon ? (
          <span className="room-icon" aria-hidden="true">{icon}</span>
        ) : (
          <span
            className={`dot ${online ? 'online' : 'offline'}`}
            title={online ? 'online' : 'offline'}
            data-testid="presence-dot"
            data-presence={online ? 'online' : 'offline'}
          />
        )}
        <span className="room-name">{title}</span>
        {room.mentions > 0 && (
          <span className="badge mention" title={`${room.mentions} mentions`} data-testid="mention-badge">
            @{room.mentions}
          </span>
        )}
        {room.unread > 0 && (
          <span className={`badge${room.visibility === 'direct' ? ' mention' : ''}`} title={`${room.unread} unread`} data-testid="unread-badge">
            {room.unread}
          </span>
        )}
      </a>
    </li>
  );
}
