/** Users: list and filter every account, create one, invite by link, change roles, (de)activate. */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { SiteRole } from '../types';
import { useChat } from '../ui/context';
import { grantableRoles, type AdminApi, type AdminUser, type Invite, type UserFilters } from './api';
import { ErrorLine, OnceSecret, useRunner, when } from './common';

const ROLES: SiteRole[] = ['owner', 'admin', 'member', 'guest'];

export function UsersPanel({ api }: { api: AdminApi }) {
  const me = useChat((s) => s.me);
  const [filters, setFilters] = useState<UserFilters>({ q: '', role: '', active: '', bot: '' });
  const [users, setUsers] = useState<AdminUser[] | null>(null);
  const [next, setNext] = useState<number | string | null>(null);
  const [confirm, setConfirm] = useState<number | null>(null);
  const { error, run } = useRunner();

  const load = useCallback(
    (f: UserFilters, cursor: number | string | null = null) =>
      run(async () => {
        const page = await api.users({ ...f, cursor });
        setUsers((prev) => (cursor && prev ? [...prev, ...page.results] : page.results));
        setNext(page.next);
      }),
    [api],
  );

  useEffect(() => {
    const t = setTimeout(() => void load(filters), 250);
    return () => clearTimeout(t);
  }, [filters, load]);

  const replace = (u: AdminUser) => setUsers((list) => list?.map((x) => (x.id === u.id ? { ...x, ...u } : x)) ?? null);

  return (
    <section className="admin-panel" data-testid="admin-users">
      <div className="admin-filters">
        <input
          type="search"
          placeholder="Find by name"
          aria-label="Find by name"
          value={filters.q}
          onChange={(e) => setFilters({ ...filters, q: e.target.value })}
          data-testid="admin-users-q"
        />
        <select aria-label="Role" value={filters.role} onChange={(e) => setFilters({ ...filters, role: e.target.value })} data-testid="admin-users-role">
          <option value="">Any role</option>
          {ROLES.map((r) => (
            <option key={r} value={r}>{r}</option>
          ))}
        </select>
        <select
          aria-label="State"
          value={filters.active}
          onChange={(e) => setFilters({ ...filters, active: e.target.value as UserFilters['active'] })}
          data-testid="admin-users-active"
        >
          <option value="">Active and deactivated</option>
          <option value="true">Active</option>
          <option value="false">Deactivated</option>
        </select>
        <select
          aria-label="Kind"
          value={filters.bot}
          onChange={(e) => setFilters({ ...filters, bot: e.target.value as UserFilters['bot'] })}
          data-testid="admin-users-bot"
        >
          <option value="">People and bots</option>
          <option value="false">People</option>
          <option value="true">Bots</option>
        </select>
      </div>
      <ErrorLine error={error} />
      <div className="table-wrap">
        <table className="admin-table" data-testid="admin-user-list">
          <thead>
            <tr>
              <th>User</th>
              <th>Role</th>
              <th className="wide-only">Last sign-in</th>
              <th>State</th>
            </tr>
          </thead>
          <tbody>
            {(users ?? []).map((u) => (
              <tr key={u.id} data-testid={`admin-user-${u.id}`} data-role={u.role} data-active={String(u.is_active)}>
                <td>
                  {u.display_name || u.username} <span className="muted">@{u.username}</span>
                  {u.is_bot && <span className="bot-badge">BOT</span>}
                </td>
                <td>
                  <select
                    aria-label={`Role of ${u.username}`}
                    value={u.role}
                    disabled={u.id === me?.id}
                    onChange={(e) => {
                      const role = e.target.value as SiteRole;
                      void run(async () => replace(await api.updateUser(u.id, { role })));
                    }}
                    data-testid="user-role"
                  >
                    {/* Every role is offered: the server's 403 says clearly who may grant what. */}
                    {ROLES.map((r) => (
                      <option key={r} value={r}>{r}</option>
                    ))}
                  </select>
                </td>
                <td className="wide-only">{when(u.last_login)}</td>
                <td>
                  {u.id === me?.id ? (
                    <span className="muted">you</span>
                  ) : !u.is_active ? (
                    <button type="button" onClick={() => void run(async () => replace(await api.updateUser(u.id, { is_active: true })))} data-testid="user-reactivate">
                      Reactivate
                    </button>
                  ) : confirm === u.id ? (
                    <span className="confirm-inline">
                      <button
                        type="button"
                        className="danger"
                        onClick={() => {
                          setConfirm(null);
                          void run(async () => replace(await api.updateUser(u.id, { is_active: false })));
                        }}
                        data-testid="confirm-deactivate"
                      >
                        Deactivate: sign out everywhere
                      </button>
                      <button type="button" onClick={() => setConfirm(null)}>Cancel</button>
                    </span>
                  ) : (
                    <button type="button" className="danger" onClick={() => setConfirm(u.id)} data-testid="user-deactivate">
                      Deactivate
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {users && users.length === 0 && <p className="muted" data-testid="admin-users-empty">Nobody matches.</p>}
      {next != null && (
        <button type="button" onClick={() => void load(filters, next)} data-testid="admin-users-more">
          More
        </button>
      )}
      <CreateUser api={api} onCreated={() => void load(filters)} />
      <Invites api={api} />
    </section>
  );
}

function CreateUser({ api, onCreated }: { api: AdminApi; onCreated: () => void }) {
  const me = useChat((s) => s.me);
  const [open, setOpen] = useState(false);
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<SiteRole>('member');
  const [done, setDone] = useState<string | null>(null);
  const { error, busy, run } = useRunner();

  function submit(e: FormEvent) {
    e.preventDefault();
    setDone(null);
    void run(async () => {
      const u = await api.createUser({ username: username.trim(), password, display_name: displayName.trim() || undefined, role });
      setDone(`Created @${u.username}.`);
      setUsername('');
      setDisplayName('');
      setPassword('');
      onCreated();
    });
  }

  return (
    <section className="admin-subsection">
      <div className="section-head">
        <h3>Create an account</h3>
        <button type="button" onClick={() => setOpen((o) => !o)} data-testid="admin-create-user">
          {open ? 'Close' : 'Create'}
        </button>
      </div>
      {open && (
        <form className="stack" onSubmit={submit} data-testid="create-user-form">
          <label>
            Username
            <input value={username} onChange={(e) => setUsername(e.target.value)} required maxLength={150} data-testid="new-user-username" />
          </label>
          <label>
            Display name
            <input value={displayName} onChange={(e) => setDisplayName(e.target.value)} maxLength={150} data-testid="new-user-display" />
          </label>
          <label>
            Password
            <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} required autoComplete="new-password" data-testid="new-user-password" />
          </label>
          <label>
            Role
            <select value={role} onChange={(e) => setRole(e.target.value as SiteRole)} data-testid="new-user-role">
              {grantableRoles(me).map((r) => (
                <option key={r} value={r}>{r}</option>
              ))}
            </select>
          </label>
          <ErrorLine error={error} testId="create-user-error" />
          {done && <p className="form-note" role="status" data-testid="create-user-done">{done}</p>}
          <div className="button-row">
            <button type="submit" disabled={busy} data-testid="new-user-submit">Create account</button>
          </div>
        </form>
      )}
    </section>
  );
}

function Invites({ api }: { api: AdminApi }) {
  const me = useChat((s) => s.me);
  const [invites, setInvites] = useState<Invite[]>([]);
  const [role, setRole] = useState<SiteRole>('member');
  const [hours, setHours] = useState(72);
  const [note, setNote] = useState('');
  const [fresh, setFresh] = useState<Invite | null>(null);
  const { error, busy, run } = useRunner();

  const load = useCallback(() => run(async () => setInvites((await api.invites()).results)),
    [api]);
  useEffect(() => {
    void load();
  }, [load]);

  function create(e: FormEvent) {
    e.preventDefault();
    void run(async () => {
      const invite = await api.createInvite({ role, expires_in_hours: hours, note: note.trim() || undefined });
      setFresh(invite);
      setNote('');
      await load();
    });
  }

  return (
    <section className="admin-subsection" data-testid="admin-invites">
      <h3>Invite links</h3>
      <form className="admin-filters" onSubmit={create}>
        <label>
          Role
          <select value={role} onChange={(e) => setRole(e.target.value as SiteRole)} data-testid="invite-role">
            {grantableRoles(me).map((r) => (
              <option key={r} value={r}>{r}</option>
            ))}
          </select>
        </label>
        <label>
          Expires in (hours)
          <input type="number" min={1} max={720} value={hours} onChange={(e) => setHours(Number(e.target.value))} data-testid="invite-hours" />
        </label>
        <label>
          Note
          <input value={note} onChange={(e) => setNote(e.target.value)} maxLength={200} data-testid="invite-note" />
        </label>
        <button type="submit" disabled={busy} data-testid="invite-create">New invite link</button>
      </form>
      <ErrorLine error={error} testId="invite-error" />
      {fresh?.path && (
        <OnceSecret
          label={`Invite link (${fresh.role}, until ${when(fresh.expires_at)})`}
          value={window.location.origin + fresh.path}
          testId="invite-link"
        />
      )}
      <ul className="pick-list" data-testid="invite-list">
        {invites.map((i) => (
          <li key={i.id} data-testid={`invite-${i.id}`} data-state={i.state}>
            <span className="pick-main">
              {i.role} · {i.state} · until {when(i.expires_at)}
              {i.note && <span className="muted"> · {i.note}</span>}
            </span>
            {i.state === 'open' && (
              <button type="button" className="danger" onClick={() => void run(async () => {
                await api.revokeInvite(i.id);
                await load();
              })} data-testid="invite-revoke">
                Revoke
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
