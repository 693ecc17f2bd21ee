import { useState } from 'react';
import { roomHash } from '../app/route';
import { describeError } from '../net/api';
import type { User } from '../types';
import { useChat, useSession } from './context';
import { Modal } from './Modal';
import { UserPicker } from './UserPicker';

/** Open (or reopen) the direct-message room with someone from the directory. */
export function NewDm({ onClose }: { onClose: () => void }) {
  const session = useSession();
  const me = useChat((s) => s.me);
  const [error, setError] = useState<string | null>(null);

  async function open(user: User) {
    setError(null);
    try {
      const room = await session.openDm([user.id]);
      window.location.hash = roomHash(room.id);
      onClose();
    } catch (e) {
      setError(describeError(e));
    }
  }

  return (
    <Modal title="Direct message" onClose={onClose} testId="new-dm-dialog">
      {error && <p className="form-error" role="alert">{error}</p>}
      <UserPicker onPick={(u) => void open(u)} exclude={me ? [me.id] : []} placeholder="Find a person" testId="dm-search" />
    </Modal>
  );
}
