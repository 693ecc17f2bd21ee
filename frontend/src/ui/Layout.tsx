import { lazy, Suspense, useCallback, useEffect, useState } from 'react';
import { roomHash } from '../app/route';
import { roomOrder, totalUnread } from '../state/selectors';
import { BrowseRooms } from './BrowseRooms';
import { ConnectionBanner } from './ConnectionBanner';
import { useChat, useRoute, useSession } from './context';
import { CreateRoom } from './CreateRoom';
import { Icon } from './icons';
import { NewDm } from './NewDm';
import { Profile } from './Profile';
import { RoomSettings } from './RoomSettings';
import { RoomView } from './RoomView';
import { SearchDialog } from './SearchDialog';
import { Sidebar } from './Sidebar';
import { ThreadPanel } from './ThreadPanel';
import { Toasts } from './toast';

const AdminArea = lazy(() => import('../admin/AdminArea'));

export type ModalKind = 'browse' | 'create' | 'dm' | 'settings' | 'search' | 'profile';

export function Layout() {
  const session = useSession();
  const route = useRoute();
  const [drawerOpen, setDrawerOpen] = useState(false);
  const [thread, setThread] = useState<{ roomId: number; rootId: number } | null>(null);
  const [modal, setModal] = useState<ModalKind | null>(null);
  const unread = useChat(totalUnread);
  const roomId = route.roomId;
  const roomKnown = useChat((s) => (roomId != null ? !!s.rooms[roomId] : false));

  useEffect(() => {
    document.title = unread > 0 ? `(${unread}) Chat` : 'Chat';
  }, [unread]);

  const adminTab = route.admin;
  // Without a room in the address, open the first one.
  useEffect(() => {
    if (roomId != null || adminTab) return;
    const first = roomOrder(session.state)[0];
    if (first != null) window.location.replace(roomHash(first));
  }, [roomId, adminTab, session]);

  const openThread = useCallback((rootId: number) => {
    if (roomId != null) setThread({ roomId, rootId });
  }, [roomId]);
  const threadRoot = thread && thread.roomId === roomId ? thread.rootId : null;

  useEffect(() => {
    function onKey(e: KeyboardEvent) {
      if (isSearchKey(e)) {
        e.preventDefault();
        setModal('search');
        setDrawerOpen(false);
        return;
      }
      if (e.altKey && (e.key === 'ArrowUp' || e.key === 'ArrowDown')) {
        const order = roomOrder(session.state);
        if (!order.length) return;
        e.preventDefault();
        const at = roomId != null ? order.indexOf(roomId) : -1;
        const step = e.key === 'ArrowUp' ? -1 : 1;
        const next = order[(at + step + order.length) % order.length];
        window.location.hash = roomHash(next);
      } else if (e.key === 'Escape') {
        if (modal) setModal(null);
        else if (threadRoot != null) setThread(null);
        else if (drawerOpen) setDrawerOpen(false);
      }
    }
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [session, roomId, modal, threadRoot, drawerOpen]);

  const closeModal = () => setModal(null);

  return (
    <div className={`layout${drawerOpen ? ' drawer-open' : ''}${threadRoot != null ? ' with-thread' : ''}`}>
      <ConnectionBanner />
      <Sidebar
        currentRoomId={roomId}
        onNavigate={() => setDrawerOpen(false)}
        onOpenModal={(m) => {
          setModal(m);
          setDrawerOpen(false);
        }}
      />
      <div className="drawer-scrim" onClick={() => setDrawerOpen(false)} aria-hidden="true" />
      <main className="main">
        {adminTab ? (
          <Suspense fallback={<div className="empty-main" data-testid="loading">Loading…</div>}>
            <AdminArea tab={adminTab} onToggleSidebar={() => setDrawerOpen((o) => !o)} />
          </Suspense>
        ) : roomId != null && roomKnown ? (
          <RoomView
            key={roomId}
            roomId={roomId}
            messageId={route.messageId}
            onOpenThread={openThread}
            onToggleSidebar={() => setDrawerOpen((o) => !o)}
            onOpenSettings={() => setModal('settings')}
            onOpenSearch={() => setModal('search')}
          />
        ) : (
          <div className="empty-main">
            <button type="button" className="icon-button menu-button" aria-label="Rooms" onClick={() => setDrawerOpen(true)}><Icon name="menu" size={20} /></button>
            <p>{roomId != null ? 'This room does not exist or you cannot see it.' : 'Pick a room or start a conversation.'}</p>
          </div>
        )}
      </main>
      {threadRoot != null && roomId != null && (
        <ThreadPanel roomId={roomId} rootId={threadRoot} onClose={() => setThread(null)} />
      )}
      {modal === 'browse' && <BrowseRooms onClose={closeModal} />}
      {modal === 'create' && <CreateRoom onClose={closeModal} />}
      {modal === 'dm' && <NewDm onClose={closeModal} />}
      {modal === 'settings' && roomId != null && <RoomSettings roomId={roomId} onClose={closeModal} />}
      {modal === 'search' && <SearchDialog onClose={closeModal} />}
      {modal === 'profile' && <Profile onClose={closeModal} />}
      <Toasts />
    </div>
  );
}

/** Ctrl+K (Cmd+K) anywhere, or "/" outside a text field, opens the search. */
export function isSearchKey(e: KeyboardEvent): boolean {
  if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && e.key.toLowerCase() === 'k') return true;
  if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey) return false;
  const t = e.target as HTMLElement | null;
  const editable = !!t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  return !editable;
}
