/**
 * Bot accounts and their API tokens: an external bot is an account with
 * is_bot (no password) that talks REST and the WebSocket with a bearer token.
 * A new token is shown once (only its hash is kept); revoking one makes it
 * answer 401 at once.
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { AccountToken, AdminApi, AdminUser } from './api';
import { ErrorLine, FieldError, OnceSecret, useRunner, when } from './common';

export function BotAccounts({ api }: { api: AdminApi }) {
  const [bots, setBots] = useState<AdminUser[] | null>(null);
  const [selected, setSelected] = useState<number | null>(null);
  const { error, run } = useRunner();

  const load = useCallback(
    () => run(async () => setBots((await api.users({ bot: 'true', active: 'true' })).results)),
    [api],
  );
  useEffect(() => {
    void load();
  }, [load]);

  const current = bots?.find((b) => b.id === selected) ?? null;
  return (
    <section className="admin-subsection" data-testid="bot-accounts">
      <h3>Bot accounts and API tokens</h3>
      <p className="muted">
        External bots use the REST API and the WebSocket with a token, sent as <code>Authorization: Bearer …</code>.
      </p>
      <ErrorLine error={error} testId="bot-accounts-error" />
      <ul className="pick-list" data-testid="bot-account-list">
        {(bots ?? []).map((b) => (
          <li key={b.id} data-testid={`bot-account-${b.id}`} data-username={b.username} aria-current={b.id === selected || undefined}>
            <span className="pick-main">
              <strong>{b.display_name || b.username}</strong> <span className="muted">@{b.username} · {b.role}</span>
            </span>
            <button type="button" onClick={() => setSelected(b.id === selected ? null : b.id)} data-testid="bot-tokens-open">
              {b.id === selected ? 'Hide tokens' : 'Tokens'}
            </button>
          </li>
        ))}
      </ul>
      {bots && bots.length === 0 && <p className="muted">No bot accounts yet.</p>}
      {current && <TokenList key={current.id} api={api} bot={current} />}
      <NewBotAccount
        api={api}
        onCreated={async (bot) => {
          await load();
          setSelected(bot.id);
        }}
      />
    </section>
  );
}

function NewBotAccount({ api, onCreated }: { api: AdminApi; onCreated: (bot: AdminUser) => Promise<void> }) {
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState('');
  const { error, fields, busy, run } = useRunner();

  function submit(e: FormEvent) {
    e.preventDefault();
    void run(async () => {
      const bot = await api.createUser({ username: username.trim(), display_name: displayName.trim() || undefined, is_bot: true });
      setUsername('');
      setDisplayName('');
      await onCreated(bot);
    });
  }

  return (
    <form className="admin-filters" onSubmit={submit} data-testid="new-bot-form">
      <label>
        New bot username
        <input value={username} onChange={(e) => setUsername(e.target.value)} required maxLength={150} data-testid="new-bot-username" />
        <FieldError fields={fields} name="username" />
      </label>
      <label>
        Display name
        <input value={displayName} onChange={(e) => setDisplayName(e.target.value)} maxLength={150} data-testid="new-bot-display" />
        <FieldError fields={fields} name="display_name" />
      </label>
      <button type="submit" disabled={busy} data-testid="new-bot-submit">Create bot account</button>
      <ErrorLine error={error} testId="new-bot-error" />
    </form>
  );
}

function TokenList({ api, bot }: { api: AdminApi; bot: AdminUser }) {
  const [tokens, setTokens] = useState<AccountToken[] | null>(null);
  const [name, setName] = useState('');
  const [fresh, setFresh] = useState<AccountToken | null>(null);
  const [confirm, setConfirm] = useState<number | null>(null);
  const { error, fields, busy, run } = useRunner();

  const load = useCallback(async () => setTokens((await api.tokens(bot.id)).results), [api, bot.id]);
  useEffect(() => {
    void run(load);
  }, [load]);

  function create(e: FormEvent) {
    e.preventDefault();
    void run(async () => {
      const token = await api.createToken(bot.id, name.trim());
      setFresh(token);
      setName('');
      await load();
    });
  }

  function revoke(t: AccountToken) {
    setConfirm(null);
    void run(async () => {
      await api.revokeToken(bot.id, t.id);
      if (fresh?.id === t.id) setFresh(null);
      await load();
    });
  }

  return (
    <div className="bot-tokens" data-testid="bot-tokens" data-bot-id={bot.id}>
      <h4>Tokens of @{bot.username}</h4>
      <form className="inline-form" onSubmit={create}>
        <input
          placeholder="Token name, e.g. ci-runner"
          aria-label="Token name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          required
          maxLength={100}
          data-testid="token-name"
        />
        <button type="submit" disabled={busy} data-testid="token-create">New token</button>
      </form>
      <FieldError fields={fields} name="name" />
      <FieldError fields={fields} name="user" />
      <ErrorLine error={error} testId="tokens-error" />
      {fresh?.token && (
        <OnceSecret
          label={`Token "${fresh.name}" of @${bot.username}`}
          value={fresh.token}
          testId="bot-token"
          note="Shown only this once: only its hash is kept, it cannot be shown again."
        />
      )}
      <table className="admin-table" data-testid="token-list">
        <thead>
          <tr>
            <th>Name</th>
            <th>Created</th>
            <th>Last used</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(tokens ?? []).map((t) => (
            <tr key={t.id} data-testid={`token-${t.id}`}>
              <td>{t.name || <span className="muted">(no name)</span>}</td>
              <td>{when(t.created_at)}</td>
              <td>{when(t.last_used_at)}</td>
              <td>
                {confirm === t.id ? (
                  <span className="confirm-inline">
                    <button type="button" className="danger" onClick={() => revoke(t)} data-testid="confirm-token-revoke">
                      Revoke: it stops working now
                    </button>
                    <button type="button" onClick={() => setConfirm(null)}>Cancel</button>
                  </span>
                ) : (
                  <button type="button" className="danger" onClick={() => setConfirm(t.id)} data-testid="token-revoke">
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {tokens && tokens.length === 0 && <p className="muted" data-testid="token-empty">No tokens.</p>}
    </div>
  );
}
