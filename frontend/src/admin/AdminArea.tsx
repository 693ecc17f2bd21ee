/**
 * The admin area (#/admin/<tab>), for site admins only. Loaded on demand
 * (React.lazy) so the chat's first load does not carry it.
 */
import { useMemo } from 'react';
import { adminHash, ADMIN_TABS, type AdminTab } from '../app/route';
import { isSiteAdmin } from '../state/selectors';
import { useChat, useSession } from '../ui/context';
import { Icon } from '../ui/icons';
import { adminApi } from './api';
import { AuditPanel } from './AuditPanel';
import { BotsPanel } from './BotsPanel';
import { RoomsPanel } from './RoomsPanel';
import { SettingsPanel } from './SettingsPanel';
import { UsersPanel } from './UsersPanel';

const LABELS: Record<AdminTab, string> = {
  users: 'Users',
  rooms: 'Rooms',
  bots: 'Bots',
  audit: 'Audit log',
  settings: 'Settings',
};

export default function AdminArea({ tab, onToggleSidebar }: { tab: AdminTab; onToggleSidebar: () => void }) {
  const session = useSession();
  const me = useChat((s) => s.me);
  const api = useMemo(() => adminApi(session.api), [session]);

  return (
    <div className="admin-area" data-testid="admin-area" data-tab={tab}>
      <header className="room-header">
        <button type="button" className="icon-button menu-button" aria-label="Rooms" onClick={onToggleSidebar}>
          <Icon name="menu" size={20} />
        </button>
        <div className="room-heading">
          <h1>Administration</h1>
        </div>
      </header>
      {!isSiteAdmin(me) ? (
        <p className="admin-denied" data-testid="admin-denied">Only site admins and owners can open the administration pages.</p>
      ) : (
        <>
          <nav className="admin-tabs" aria-label="Administration">
            {ADMIN_TABS.map((t) => (
              <a key={t} href={adminHash(t)} aria-current={t === tab ? 'page' : undefined} data-testid={`admin-tab-${t}`}>
                {LABELS[t]}
              </a>
            ))}
          </nav>
          <div className="admin-body">
            {tab === 'users' && <UsersPanel api={api} />}
            {tab === 'rooms' && <RoomsPanel api={api} />}
            {tab === 'bots' && <BotsPanel api={api} />}
            {tab === 'audit' && <AuditPanel api={api} />}
            {tab === 'settings' && <SettingsPanel api={api} />}
          </div>
        </>
      )}
    </div>
  );
}
