import { useEffect, useMemo, useState } from 'react';
import { roomHash } from '../app/route';
import { describeError } from '../net/api';
import { joinableRooms } from '../state/selectors';
import { useChat, useSession } from './context';
import { Modal } from './Modal';

/** Public rooms I am not in, with a Join button each. */
export function BrowseRooms({ onClose }: { onClose: () => void }) {
  const session = useSession();
  const rooms = useChat((s) => s.rooms);
  const [filter, setFilter] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<number | null>(null);

  useEffect(() => {
    session.api
      .rooms()
      .then((page) => session.store.dispatch({ type: 'rooms/loaded', rooms: page.results }))
      .catch((e) => setError(describeError(e)));
  }, [session]);

  const list = useMemo(() => {
    const q = filter.trim().toLowerCase();
    return joinableRooms(rooms).filter(
      (r) => !q || r.name.toLowerCase().includes(q) || (r.topic ?? '').toLowerCase().includes(q),
    );
  }, [rooms, filter]);

  async function join(id: number) {
    setBusy(id);
    setError(null);
    try {
      await session.joinRoom(id);
      window.location.hash = roomHash(id);
      onClose();
    } catch (e) {
      setError(describeError(e));
      setBusy(null);
    }
  }

  return (
    <Modal title="Browse rooms" onClose={onClose} testId="browse-dialog">
      <input
        type="search"
        placeholder="Filter rooms"
        value={filter}
        onChange={(e) => setFilter(e.target.value)}
        aria-label="Filter rooms"
        data-testid="browse-filter"
      />
      {error && <p className="form-error" role="alert">{error}</p>}
      {list.length === 0 ? (
        <p className="muted">No public rooms to join.</p>
      ) : (
        <ul className="pick-list">
          {list.map((r) => (
            <li key={r.id} data-testid={`browse-room-${r.id}`}>
              <div className="pick-main">
                <strong># {r.name}</strong>
                {r.topic && <span className="muted"> — {r.topic}</span>}
                <div className="muted small">{r.member_count} members</div>
              </div>
              <button type="button" onClick={() => void join(r.id)} disabled={busy === r.id} data-testid={`join-room-${r.id}`}>
                Join
              </button>
            </li>
          ))}
        </ul>
      )}
    </Modal>
  );
}
