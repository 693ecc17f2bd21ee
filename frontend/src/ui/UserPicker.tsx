import { useEffect, useState } from 'react';
import { describeError } from '../net/api';
import type { User } from '../types';
import { useChat, useSession } from './context';

/** Search the directory and pick a person (or bot). */
export function UserPicker(props: {
  onPick: (user: User) => void;
  exclude?: number[];
  placeholder: string;
  testId: string;
}) {
  const session = useSession();
  const presence = useChat((s) => s.presence);
  const [q, setQ] = useState('');
  const [results, setResults] = useState<User[]>([]);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    const t = setTimeout(() => {
      session
        .searchUsers(q.trim())
        .then((users) => live && setResults(users))
        .catch((e) => live && setError(describeError(e)));
    }, 200);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [q, session]);

  const exclude = new Set(props.exclude ?? []);
  const list = results.filter((u) => !exclude.has(u.id) && u.is_active !== false);
  return (
    <div className="user-picker">
      <input
        type="search"
        value={q}
        placeholder={props.placeholder}
        aria-label={props.placeholder}
        onChange={(e) => setQ(e.target.value)}
        data-testid={props.testId}
      />
      {error && <p className="form-error">{error}</p>}
      <ul className="pick-list">
        {list.map((u) => (
          <li key={u.id}>
            <button type="button" className="pick-user" onClick={() => props.onPick(u)} data-testid={`${props.testId}-user-${u.id}`}>
              <span className={`dot ${(presence[u.id] ?? u.presence) === 'online' ? 'online' : 'offline'}`} aria-hidden="true" />
              <span>{u.display_name || u.username}</span>
              <span className="muted">@{u.username}</span>
              {u.is_bot && <span className="bot-badge">BOT</span>}
            </button>
          </li>
        ))}
        {list.length === 0 && <li className="muted">Nobody found.</li>}
      </ul>
    </div>
  );
}
