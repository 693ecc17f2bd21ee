import { lazy, Suspense, useEffect, useState, type FormEvent } from 'react';
import { describeError } from '../net/api';
import { canManageRoom } from '../state/selectors';
import type { Room, User } from '../types';
import { useChat, useSession } from './context';
import { Modal } from './Modal';
import { UserPicker } from './UserPicker';

const RoomIntegrations = lazy(() => import('../admin/RoomIntegrations'));

/** Name, topic, visibility, archive, members, bots and webhooks of a room, for its admins. */
export function RoomSettings({ roomId, onClose }: { roomId: number; onClose: () => void }) {
  const room = useChat((s) => s.rooms[roomId]);
  const me = useChat((s) => s.me);
  if (!room || !canManageRoom(me, room)) {
    return (
      <Modal title="Room settings" onClose={onClose} testId="room-settings">
        <p>Only the room's admins can change its settings.</p>
      </Modal>
    );
  }
  return (
    <Modal title={`Settings of #${room.name}`} onClose={onClose} testId="room-settings">
      <DetailsForm room={room} />
      <Members room={room} />
      <Suspense fallback={<p className="muted">Loading bots and webhooks…</p>}>
        <RoomIntegrations roomId={room.id} />
      </Suspense>
    </Modal>
  );
}

function DetailsForm({ room }: { room: Room }) {
  const session = useSession();
  const [name, setName] = useState(room.name);
  const [topic, setTopic] = useState(room.topic ?? '');
  const [visibility, setVisibility] = useState(room.visibility as 'public' | 'private');
  const [policy, setPolicy] = useState(room.posting_policy ?? 'everyone');
  const [note, setNote] = useState<{ text: string; error: boolean } | null>(null);
  const [busy, setBusy] = useState(false);

  async function patch(data: Parameters<typeof session.updateRoom>[1], done: string) {
    setBusy(true);
    setNote(null);
    try {
      await session.updateRoom(room.id, data);
      setNote({ text: done, error: false });
    } catch (e) {
      setNote({ text: describeError(e), error: true });
    } finally {
      setBusy(false);
    }
  }

  function save(e: FormEvent) {
    e.preventDefault();
    const data: Parameters<typeof session.updateRoom>[1] = {};
    if (name.trim() !== room.name) data.name = name.trim();
    if (topic.trim() !== (room.topic ?? '')) data.topic = topic.trim();
    if (visibility !== room.visibility) data.visibility = visibility;
    if (policy !== (room.posting_policy ?? 'everyone')) data.posting_policy = policy;
    if (!Object.keys(data).length) {
      setNote({ text: 'Nothing to save.', error: false });
      return;
    }
    void patch(data, 'Saved.');
  }

  return (
    <form className="stack" onSubmit={save}>
      <label>
        Name
        <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} data-testid="settings-name" />
      </label>
      <label>
        Topic
        <input value={topic} onChange={(e) => setTopic(e.target.value)} maxLength={250} data-testid="settings-topic" />
      </label>
      <fieldset className="radio-row">
        <legend>Visibility</legend>
        <label>
          <input type="radio" name="settings-visibility" checked={visibility === 'public'} onChange={() => setVisibility('public')} data-testid="settings-public" />
          Public
        </label>
        <label>
          <input type="radio" name="settings-visibility" checked={visibility === 'private'} onChange={() => setVisibility('private')} data-testid="settings-private" />
          Private
        </label>
      </fieldset>
      <fieldset className="radio-row">
        <legend>Who may post</legend>
        <label>
          <input type="radio" name="settings-policy" checked={policy === 'everyone'} onChange={() => setPolicy('everyone')} data-testid="settings-policy-everyone" />
          Every member
        </label>
        <label>
          <input type="radio" name="settings-policy" checked={policy === 'admins'} onChange={() => setPolicy('admins')} data-testid="settings-policy-admins" />
          Room admins only
        </label>
      </fieldset>
      {note && (
        <p className={note.error ? 'form-error' : 'form-note'} role={note.error ? 'alert' : 'status'} data-testid="settings-note">
          {note.text}
        </p>
      )}
      <div className="button-row">
        <button type="submit" disabled={busy} data-testid="settings-save">
          Save
        </button>
        <button
          type="button"
          className={room.archived ? '' : 'danger'}
          disabled={busy}
          onClick={() => void patch({ archived: !room.archived }, room.archived ? 'Room restored.' : 'Room archived.')}
          data-testid="settings-archive"
        >
          {room.archived ? 'Unarchive room' : 'Archive room'}
        </button>
      </div>
    </form>
  );
}

function Members({ room }: { room: Room }) {
  const session = useSession();
  const memberIds = useChat((s) => s.roomMembers[room.id]);
  const users = useChat((s) => s.users);
  const me = useChat((s) => s.me);
  const [error, setError] = useState<string | null>(null);
  const [inviting, setInviting] = useState(false);

  useEffect(() => {
    session.loadMembers(room.id).catch((e) => setError(describeError(e)));
  }, [session, room.id]);

  async function run(action: () => Promise<void>) {
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(describeError(e));
    }
  }

  const members: User[] = (memberIds ?? []).map((id) => users[id]).filter(Boolean);
  return (
    <section className="settings-members">
      <div className="section-head">
        <h3>Members ({memberIds?.length ?? room.member_count})</h3>
        <button type="button" onClick={() => setInviting((v) => !v)} data-testid="invite-toggle">
          {inviting ? 'Done' : 'Invite'}
        </button>
      </div>
      {error && <p className="form-error" role="alert" data-testid="members-error">{error}</p>}
      {inviting && (
        <UserPicker
          onPick={(u) => void run(() => session.addMembers(room.id, [u.id]))}
          exclude={memberIds}
          placeholder="Find someone to invite"
          testId="invite-search"
        />
      )}
      <ul className="pick-list" data-testid="member-list">
        {members.map((u) => (
          <li key={u.id} data-testid={`member-${u.id}`}>
            <span className="pick-main">
              {u.display_name || u.username} <span className="muted">@{u.username}</span>
              {u.is_bot && <span className="bot-badge">BOT</span>}
            </span>
            {u.id !== me?.id && (
              <button type="button" className="danger" onClick={() => void run(() => session.removeMember(room.id, u.id))} data-testid="member-remove">
                Remove
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
