/** Rooms: every public and private room with its size and state; join (audited) or export one. */
import { useCallback, useEffect, useState } from 'react';
import { roomHash } from '../app/route';
import { useSession } from '../ui/context';
import type { AdminApi, AdminRoom } from './api';
import { ErrorLine, useRunner } from './common';

export function RoomsPanel({ api }: { api: AdminApi }) {
  const session = useSession();
  const [q, setQ] = useState('');
  const [visibility, setVisibility] = useState('');
  const [archived, setArchived] = useState('');
  const [rooms, setRooms] = useState<AdminRoom[] | null>(null);
  const [next, setNext] = useState<number | string | null>(null);
  const [confirm, setConfirm] = useState<number | null>(null);
  const { error, run } = useRunner();

  const load = useCallback(
    (cursor: number | string | null = null) =>
      run(async () => {
        const page = await api.rooms({ q, visibility, archived, cursor });
        setRooms((prev) => (cursor && prev ? [...prev, ...page.results] : page.results));
        setNext(page.next);
      }),
    // run is recreated each render; the filters are what matter.
    [api, q, visibility, archived],
  );
  useEffect(() => {
    const t = setTimeout(() => void load(), 250);
    return () => clearTimeout(t);
  }, [load]);

  function join(room: AdminRoom) {
    setConfirm(null);
    void run(async () => {
      await api.joinRoom(room.id);
      const fresh = await session.api.room(room.id);
      session.store.dispatch({ type: 'room/upserted', room: { ...fresh, joined: true } });
      setRooms((list) => list?.map((r) => (r.id === room.id ? { ...r, joined: true, member_count: r.member_count + 1 } : r)) ?? null);
    });
  }

  return (
    <section className="admin-panel" data-testid="admin-rooms">
      <div className="admin-filters">
        <input type="search" placeholder="Find by name" aria-label="Find by name" value={q} onChange={(e) => setQ(e.target.value)} data-testid="admin-rooms-q" />
        <select aria-label="Visibility" value={visibility} onChange={(e) => setVisibility(e.target.value)} data-testid="admin-rooms-visibility">
          <option value="">Public and private</option>
          <option value="public">Public</option>
          <option value="private">Private</option>
        </select>
        <select aria-label="Archived" value={archived} onChange={(e) => setArchived(e.target.value)} data-testid="admin-rooms-archived">
          <option value="">Open and archived</option>
          <option value="false">Open</option>
          <option value="true">Archived</option>
        </select>
      </div>
      <ErrorLine error={error} />
      <div className="table-wrap">
        <table className="admin-table" data-testid="admin-room-list">
          <thead>
            <tr>
              <th>Room</th>
              <th>Members</th>
              <th>State</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {(rooms ?? []).map((r) => (
              <tr key={r.id} data-testid={`admin-room-${r.id}`} data-visibility={r.visibility} data-archived={String(r.archived)} data-joined={String(r.joined)}>
                <td>
                  {r.visibility === 'private' ? '🔒 ' : '# '}
                  {r.name}
                  {r.topic && <div className="muted small">{r.topic}</div>}
                </td>
                <td data-testid="admin-room-members">{r.member_count}</td>
                <td>{r.archived ? 'archived' : r.visibility}</td>
                <td className="row-actions">
                  {r.joined ? (
                    <a href={roomHash(r.id)} data-testid="admin-room-open">Open</a>
                  ) : confirm === r.id ? (
                    <span className="confirm-inline" data-testid="admin-join-confirm">
                      <span className="muted">Joining is recorded in the audit log.</span>
                      <button type="button" onClick={() => join(r)} data-testid="confirm-admin-join">Join</button>
                      <button type="button" onClick={() => setConfirm(null)}>Cancel</button>
                    </span>
                  ) : (
                    <button type="button" onClick={() => setConfirm(r.id)} data-testid="admin-room-join">Join</button>
                  )}
                  <a href={`/api/v1/admin/rooms/${r.id}/export`} download={`room-${r.id}.jsonl`} data-testid="admin-room-export">
                    Export
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {rooms && rooms.length === 0 && <p className="muted">No rooms match.</p>}
      {next != null && (
        <button type="button" onClick={() => void load(next)} data-testid="admin-rooms-more">More</button>
      )}
    </section>
  );
}
