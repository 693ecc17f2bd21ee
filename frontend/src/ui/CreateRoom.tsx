import { useState, type FormEvent } from 'react';
import { roomHash } from '../app/route';
import { describeError } from '../net/api';
import { useSession } from './context';
import { Modal } from './Modal';

export function CreateRoom({ onClose }: { onClose: () => void }) {
  const session = useSession();
  const [name, setName] = useState('');
  const [topic, setTopic] = useState('');
  const [visibility, setVisibility] = useState<'public' | 'private'>('public');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const room = await session.createRoom({ name: name.trim(), topic: topic.trim(), visibility });
      window.location.hash = roomHash(room.id);
      onClose();
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  }

  return (
    <Modal title="Create a room" onClose={onClose} testId="create-room-dialog">
      <form className="stack" onSubmit={submit}>
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} data-testid="create-room-name" />
        </label>
        <label>
          Topic
          <input value={topic} onChange={(e) => setTopic(e.target.value)} maxLength={250} data-testid="create-room-topic" />
        </label>
        <fieldset className="radio-row">
          <legend>Who can find it</legend>
          <label>
            <input type="radio" name="visibility" checked={visibility === 'public'} onChange={() => setVisibility('public')} data-testid="create-room-public" />
            Public: anyone can join
          </label>
          <label>
            <input type="radio" name="visibility" checked={visibility === 'private'} onChange={() => setVisibility('private')} data-testid="create-room-private" />
            Private: invited members only
          </label>
        </fieldset>
        {error && <p className="form-error" role="alert" data-testid="create-room-error">{error}</p>}
        <button type="submit" disabled={busy || !name.trim()} data-testid="create-room-submit">
          Create
        </button>
      </form>
    </Modal>
  );
}
