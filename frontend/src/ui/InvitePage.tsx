/**
 * The page an invite link opens (#/invite/<token>, the `path` the server
 * returns): choose a username and password; the account gets the invite's
 * role and is signed in at once. Loaded on demand.
 */
import { useState, type FormEvent } from 'react';
import { describeError } from '../net/api';
import type { User } from '../types';
import { useChat, useSession } from './context';

export default function InvitePage({ token }: { token: string }) {
  const session = useSession();
  const me = useChat((s) => s.me);
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await session.api.request<{ token: string; user: User }>('POST', '/auth/accept-invite', {
        token,
        username: username.trim(),
        password,
        ...(displayName.trim() ? { display_name: displayName.trim() } : {}),
      });
      // The answer signed this browser in as the new account: start over as it.
      if (session.state.me) session.end();
      window.location.hash = '';
      await session.boot();
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  }

  return (
    <main className="login">
      <form className="login-card" onSubmit={submit} data-testid="invite-form">
        <h1>Join the chat</h1>
        <p className="muted">This invite link creates your account.</p>
        {me && (
          <p className="form-note" data-testid="invite-signed-in">
            You are signed in as @{me.username}; accepting signs you in as the new account.
          </p>
        )}
        <label>
          Username
          <input value={username} onChange={(e) => setUsername(e.target.value)} required maxLength={150} autoComplete="username" data-testid="invite-username" />
        </label>
        <label>
          Display name
          <input value={displayName} onChange={(e) => setDisplayName(e.target.value)} maxLength={150} autoComplete="name" data-testid="invite-display-name" />
        </label>
        <label>
          Password
          <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} required autoComplete="new-password" data-testid="invite-password" />
        </label>
        {error && (
          <p className="form-error" role="alert" data-testid="invite-accept-error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy} data-testid="invite-submit">
          Create my account
        </button>
      </form>
    </main>
  );
}
