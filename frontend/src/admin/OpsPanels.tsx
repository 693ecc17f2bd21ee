/**
 * The built-in bots' other admin data: on-call rotations, the endpoints the
 * status bot checks, and the tokens of bot webhooks (/hooks/bot/<bot>/<name>).
 */
import { useCallback, useEffect, useMemo, useState, type FormEvent } from 'react';
import type { AdminApi, AdminBot, AdminRoom, AdminUser, HookToken, Rotation, StatusEndpoint } from './api';
import { ErrorLine, FieldError, OnceSecret, useRunner, when } from './common';

/** Public and private rooms, for the "room" fields (the first 100 by id). */
function useRooms(api: AdminApi): AdminRoom[] {
  const [rooms, setRooms] = useState<AdminRoom[]>([]);
  useEffect(() => {
    api.rooms({ archived: 'false' }).then((p) => setRooms(p.results), () => setRooms([]));
  }, [api]);
  return rooms;
}

function RoomSelect(props: { rooms: AdminRoom[]; value: number | null; onChange: (id: number | null) => void; testId: string }) {
  return (
    <select value={props.value ?? ''} onChange={(e) => props.onChange(e.target.value ? Number(e.target.value) : null)} data-testid={props.testId}>
      <option value="">(none)</option>
      {props.rooms.map((r) => (
        <option key={r.id} value={r.id}>#{r.name}</option>
      ))}
      {props.value != null && !props.rooms.some((r) => r.id === props.value) && <option value={props.value}>room {props.value}</option>}
    </select>
  );
}

function DeleteButton({ onDelete, testId }: { onDelete: () => void; testId: string }) {
  const [sure, setSure] = useState(false);
  return sure ? (
    <button type="button" className="danger" onClick={() => { setSure(false); onDelete(); }} data-testid={`confirm-${testId}`}>
      Delete for good
    </button>
  ) : (
    <button type="button" className="danger" onClick={() => setSure(true)} data-testid={testId}>Delete</button>
  );
}

// ---- on-call rotations ---------------------------------------------------------------

interface RotationDraft {
  name: string;
  period: 'daily' | 'weekly';
  handoff: string;
  tz: string;
  starts_on: string;
  escalate_minutes: string;
  room: number | null;
  members: { id: number; username: string }[];
}

function localZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

function rotationDraft(r: Rotation | null): RotationDraft {
  return r
    ? { name: r.name, period: r.period, handoff: r.handoff.slice(0, 5), tz: r.tz, starts_on: r.starts_on, escalate_minutes: String(r.escalate_minutes), room: r.room, members: r.members }
    : { name: '', period: 'weekly', handoff: '09:00', tz: localZone(), starts_on: new Date().toISOString().slice(0, 10), escalate_minutes: '15', room: null, members: [] };
}

export function Rotations({ api }: { api: AdminApi }) {
  const door = useMemo(() => api.botData<Rotation>('rotations'), [api]);
  const rooms = useRooms(api);
  const [items, setItems] = useState<Rotation[] | null>(null);
  const [editing, setEditing] = useState<number | null>(null);
  const { error, run } = useRunner();
  const load = useCallback(async () => setItems((await door.list()).results), [door]);
  useEffect(() => {
    void run(load);
  }, [load]);
  const current = editing ? (items?.find((r) => r.id === editing) ?? null) : null;

  return (
    <section className="admin-subsection" data-testid="rotations">
      <div className="section-head">
        <h3>On-call rotations</h3>
        <button type="button" onClick={() => setEditing(editing === 0 ? null : 0)} data-testid="rotation-new">
          {editing === 0 ? 'Close' : 'New rotation'}
        </button>
      </div>
      <ErrorLine error={error} testId="rotations-error" />
      {editing !== null && (
        <RotationForm
          key={editing}
          api={api}
          rooms={rooms}
          initial={rotationDraft(current)}
          isNew={editing === 0}
          onCancel={() => setEditing(null)}
          onSave={async (payload) => {
            if (editing) await door.update(editing, payload);
            else await door.create(payload);
            setEditing(null);
            await load();
          }}
        />
      )}
      <ul className="pick-list" data-testid="rotation-list">
        {(items ?? []).map((r) => (
          <li key={r.id} data-testid={`rotation-${r.id}`} data-name={r.name}>
            <span className="pick-main">
              <strong>{r.name}</strong> <span className="muted">{r.period} · hand-off {r.handoff.slice(0, 5)} {r.tz}</span>
              <div className="small">
                On call: {r.on_call ? <strong data-testid="rotation-on-call">@{r.on_call.username}</strong> : <span className="muted">nobody</span>}
                {r.on_call && <span className="muted"> until {when(r.on_call.until)}{r.on_call.override ? ' (override)' : ''}</span>}
              </div>
              <div className="muted small">{r.members.map((m) => `@${m.username}`).join(' → ') || 'no members'}</div>
            </span>
            <span className="row-actions">
              <button type="button" onClick={() => setEditing(r.id)} data-testid="rotation-edit">Edit</button>
              <DeleteButton testId="rotation-delete" onDelete={() => void run(async () => { await door.remove(r.id); await load(); })} />
            </span>
          </li>
        ))}
      </ul>
      {items && items.length === 0 && <p className="muted">No rotations yet.</p>}
    </section>
  );
}

function RotationForm(props: {
  api: AdminApi;
  rooms: AdminRoom[];
  initial: RotationDraft;
  isNew: boolean;
  onSave: (payload: Record<string, unknown>) => Promise<void>;
  onCancel: () => void;
}) {
  const [d, setD] = useState(props.initial);
  const [people, setPeople] = useState<AdminUser[]>([]);
  const [pick, setPick] = useState('');
  const { error, fields, busy, run } = useRunner();
  const set = (c: Partial<RotationDraft>) => setD((x) => ({ ...x, ...c }));
  useEffect(() => {
    props.api.users({ bot: 'false', active: 'true' }).then((p) => setPeople(p.results), () => setPeople([]));
  }, [props.api]);

  function move(i: number, by: number) {
    const list = [...d.members];
    const j = i + by;
    if (j < 0 || j >= list.length) return;
    [list[i], list[j]] = [list[j], list[i]];
    set({ members: list });
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    void run(() =>
      props.onSave({
        name: d.name.trim(),
        period: d.period,
        handoff: d.handoff,
        tz: d.tz.trim(),
        starts_on: d.starts_on,
        escalate_minutes: /^\d+$/.test(d.escalate_minutes.trim()) ? Number(d.escalate_minutes) : d.escalate_minutes,
        room: d.room,
        members: d.members.map((m) => m.id),
      }),
    );
  }

  const candidates = people.filter((p) => !d.members.some((m) => m.id === p.id));
  return (
    <form className="stack bot-form" onSubmit={submit} data-testid="rotation-form">
      <label>
        Name
        <input value={d.name} onChange={(e) => set({ name: e.target.value })} required maxLength={40} data-testid="rot-name" />
        <FieldError fields={fields} name="name" />
      </label>
      <div className="admin-filters">
        <label>
          Shift
          <select value={d.period} onChange={(e) => set({ period: e.target.value as RotationDraft['period'] })} data-testid="rot-period">
            <option value="weekly">weekly</option>
            <option value="daily">daily</option>
          </select>
        </label>
        <label>
          Hand-off
          <input type="time" value={d.handoff} onChange={(e) => set({ handoff: e.target.value })} data-testid="rot-handoff" />
          <FieldError fields={fields} name="handoff" />
        </label>
        <label>
          Time zone
          <input value={d.tz} onChange={(e) => set({ tz: e.target.value })} data-testid="rot-tz" />
          <FieldError fields={fields} name="tz" />
        </label>
        <label>
          First shift on
          <input type="date" value={d.starts_on} onChange={(e) => set({ starts_on: e.target.value })} required data-testid="rot-starts" />
          <FieldError fields={fields} name="starts_on" />
        </label>
        <label>
          Escalate after (minutes, 0 = never)
          <input type="number" min={0} value={d.escalate_minutes} onChange={(e) => set({ escalate_minutes: e.target.value })} data-testid="rot-escalate" />
          <FieldError fields={fields} name="escalate_minutes" />
        </label>
        <label>
          Team room
          <RoomSelect rooms={props.rooms} value={d.room} onChange={(room) => set({ room })} testId="rot-room" />
          <FieldError fields={fields} name="room" />
        </label>
      </div>
      <fieldset data-testid="rot-members">
        <legend>Members, in turn order</legend>
        <ol className="member-order">
          {d.members.map((m, i) => (
            <li key={m.id} data-testid={`rot-member-${m.id}`}>
              @{m.username}
              <button type="button" aria-label={`Move @${m.username} up`} onClick={() => move(i, -1)} disabled={i === 0}>↑</button>
              <button type="button" aria-label={`Move @${m.username} down`} onClick={() => move(i, 1)} disabled={i === d.members.length - 1}>↓</button>
              <button type="button" onClick={() => set({ members: d.members.filter((x) => x.id !== m.id) })} data-testid="rot-member-remove">Remove</button>
            </li>
          ))}
        </ol>
        <span className="inline-form">
          <select aria-label="Add a person" value={pick} onChange={(e) => setPick(e.target.value)} data-testid="rot-member-pick">
            <option value="">Add a person…</option>
            {candidates.map((p) => (
              <option key={p.id} value={p.id}>@{p.username}</option>
            ))}
          </select>
          <button
            type="button"
            disabled={!pick}
            onClick={() => {
              const p = people.find((x) => x.id === Number(pick));
              if (p) set({ members: [...d.members, { id: p.id, username: p.username }] });
              setPick('');
            }}
            data-testid="rot-member-add"
          >
            Add
          </button>
        </span>
        <FieldError fields={fields} name="members" />
      </fieldset>
      <FieldError fields={fields} name="non_field" />
      <ErrorLine error={error} testId="rotation-form-error" />
      <div className="button-row">
        <button type="submit" disabled={busy} data-testid="rot-submit">{props.isNew ? 'Create rotation' : 'Save'}</button>
        <button type="button" onClick={props.onCancel}>Cancel</button>
      </div>
    </form>
  );
}

// ---- status endpoints ----------------------------------------------------------------

interface EndpointDraft {
  name: string;
  url: string;
  expected_status: string;
  timeout_seconds: string;
  room: number | null;
  failures_before_down: string;
  enabled: boolean;
}

function endpointDraft(s: StatusEndpoint | null): EndpointDraft {
  return s
    ? { name: s.name, url: s.url, expected_status: String(s.expected_status), timeout_seconds: String(s.timeout_seconds), room: s.room, failures_before_down: String(s.failures_before_down), enabled: s.enabled }
    : { name: '', url: 'https://', expected_status: '200', timeout_seconds: '5', room: null, failures_before_down: '2', enabled: true };
}

/** A number field's text as a number when it is one, else as typed (the server names the fault). */
function num(v: string): number | string {
  const t = v.trim();
  return t !== '' && Number.isFinite(Number(t)) ? Number(t) : t;
}

function stateOf(s: StatusEndpoint): 'up' | 'down' | 'unknown' {
  return s.up == null ? 'unknown' : s.up ? 'up' : 'down';
}

export function StatusEndpoints({ api }: { api: AdminApi }) {
  const door = useMemo(() => api.botData<StatusEndpoint>('status-endpoints'), [api]);
  const rooms = useRooms(api);
  const [items, setItems] = useState<StatusEndpoint[] | null>(null);
  const [editing, setEditing] = useState<number | null>(null);
  const { error, run } = useRunner();
  const load = useCallback(async () => setItems((await door.list()).results), [door]);
  useEffect(() => {
    void run(load);
  }, [load]);
  const current = editing ? (items?.find((s) => s.id === editing) ?? null) : null;

  return (
    <section className="admin-subsection" data-testid="status-endpoints">
      <div className="section-head">
        <h3>Status endpoints</h3>
        <button type="button" onClick={() => setEditing(editing === 0 ? null : 0)} data-testid="endpoint-new">
          {editing === 0 ? 'Close' : 'New endpoint'}
        </button>
      </div>
      <ErrorLine error={error} testId="endpoints-error" />
      {editing !== null && (
        <EndpointForm
          key={editing}
          rooms={rooms}
          initial={endpointDraft(current)}
          isNew={editing === 0}
          onCancel={() => setEditing(null)}
          onSave={async (payload) => {
            if (editing) await door.update(editing, payload);
            else await door.create(payload);
            setEditing(null);
            await load();
          }}
        />
      )}
      <ul className="pick-list" data-testid="endpoint-list">
        {(items ?? []).map((s) => (
          <li key={s.id} data-testid={`endpoint-${s.id}`} data-name={s.name} data-state={stateOf(s)} data-enabled={String(s.enabled)}>
            <span className="pick-main">
              <span className={`status-dot status-${stateOf(s)}`} aria-hidden="true" /> <strong>{s.name}</strong>{' '}
              <span className="muted">{stateOf(s)}</span>
              {!s.enabled && <span className="badge-paused">disabled</span>}
              <div className="muted small"><code>{s.url}</code> · expects {s.expected_status}</div>
              <div className="muted small">
                last check {when(s.last_checked_at)}
                {s.last_status != null && ` · ${s.last_status}`}
                {s.last_latency_ms != null && ` · ${s.last_latency_ms} ms`}
                {s.failures > 0 && ` · ${s.failures} failure${s.failures === 1 ? '' : 's'}`}
              </div>
              {s.last_error && <div className="form-error small">{s.last_error}</div>}
            </span>
            <span className="row-actions">
              <button type="button" onClick={() => setEditing(s.id)} data-testid="endpoint-edit">Edit</button>
              <button type="button" onClick={() => void run(async () => { await door.update(s.id, { enabled: !s.enabled }); await load(); })} data-testid="endpoint-toggle">
                {s.enabled ? 'Disable' : 'Enable'}
              </button>
              <DeleteButton testId="endpoint-delete" onDelete={() => void run(async () => { await door.remove(s.id); await load(); })} />
            </span>
          </li>
        ))}
      </ul>
      {items && items.length === 0 && <p className="muted">No endpoints yet.</p>}
    </section>
  );
}

function EndpointForm(props: {
  rooms: AdminRoom[];
  initial: EndpointDraft;
  isNew: boolean;
  onSave: (payload: Record<string, unknown>) => Promise<void>;
  onCancel: () => void;
}) {
  const [d, setD] = useState(props.initial);
  const { error, fields, busy, run } = useRunner();
  const set = (c: Partial<EndpointDraft>) => setD((x) => ({ ...x, ...c }));

  function submit(e: FormEvent) {
    e.preventDefault();
    void run(() =>
      props.onSave({
        name: d.name.trim(),
        url: d.url.trim(),
        expected_status: num(d.expected_status),
        timeout_seconds: num(d.timeout_seconds),
        room: d.room,
        failures_before_down: num(d.failures_before_down),
        enabled: d.enabled,
      }),
    );
  }

  return (
    <form className="stack bot-form" onSubmit={submit} data-testid="endpoint-form">
      <label>
        Name
        <input value={d.name} onChange={(e) => set({ name: e.target.value })} required maxLength={40} data-testid="ep-name" />
        <FieldError fields={fields} name="name" />
      </label>
      <label>
        URL (http or https; private and loopback addresses are refused)
        <input value={d.url} onChange={(e) => set({ url: e.target.value })} required maxLength={2000} spellCheck={false} data-testid="ep-url" />
        <FieldError fields={fields} name="url" />
      </label>
      <div className="admin-filters">
        <label>
          Expected status
          <input type="number" min={100} max={599} value={d.expected_status} onChange={(e) => set({ expected_status: e.target.value })} data-testid="ep-status" />
          <FieldError fields={fields} name="expected_status" />
        </label>
        <label>
          Timeout (s, ≤ 30)
          <input type="number" step="0.1" min={0.1} max={30} value={d.timeout_seconds} onChange={(e) => set({ timeout_seconds: e.target.value })} data-testid="ep-timeout" />
          <FieldError fields={fields} name="timeout_seconds" />
        </label>
        <label>
          Down after (failures in a row)
          <input type="number" min={1} value={d.failures_before_down} onChange={(e) => set({ failures_before_down: e.target.value })} data-testid="ep-failures" />
          <FieldError fields={fields} name="failures_before_down" />
        </label>
        <label>
          Post changes in
          <RoomSelect rooms={props.rooms} value={d.room} onChange={(room) => set({ room })} testId="ep-room" />
          <FieldError fields={fields} name="room" />
        </label>
      </div>
      <label className="check">
        <input type="checkbox" checked={d.enabled} onChange={(e) => set({ enabled: e.target.checked })} data-testid="ep-enabled" />
        Enabled
      </label>
      <ErrorLine error={error} testId="endpoint-form-error" />
      <div className="button-row">
        <button type="submit" disabled={busy} data-testid="ep-submit">{props.isNew ? 'Create endpoint' : 'Save'}</button>
        <button type="button" onClick={props.onCancel}>Cancel</button>
      </div>
    </form>
  );
}

// ---- bot hook tokens -----------------------------------------------------------------

export function HookTokens({ api }: { api: AdminApi }) {
  const door = useMemo(() => api.botData<HookToken>('hook-tokens'), [api]);
  const [items, setItems] = useState<HookToken[] | null>(null);
  const [bots, setBots] = useState<AdminBot[]>([]);
  const [bot, setBot] = useState('');
  const [fresh, setFresh] = useState<HookToken | null>(null);
  const { error, fields, busy, run } = useRunner();
  const load = useCallback(async () => setItems((await door.list()).results), [door]);
  useEffect(() => {
    void run(async () => {
      const [page] = await Promise.all([api.bots(), load()]);
      setBots(page.results);
    });
  }, [api, load]);

  function issue(e: FormEvent) {
    e.preventDefault();
    void run(async () => {
      setFresh(await door.create({ bot }));
      await load();
    });
  }

  const replaces = items?.some((t) => t.bot === bot);
  return (
    <section className="admin-subsection" data-testid="hook-tokens">
      <h3>Bot webhook tokens</h3>
      <p className="muted">
        A token opens <code>POST /hooks/bot/&lt;bot&gt;/&lt;name&gt;</code> of its own bot only. One per bot: a new one replaces the old.
      </p>
      <form className="inline-form" onSubmit={issue}>
        <select aria-label="Bot" value={bot} onChange={(e) => setBot(e.target.value)} required data-testid="hook-token-bot">
          <option value="">Choose a bot…</option>
          {bots.map((b) => (
            <option key={b.id} value={b.username}>@{b.username}</option>
          ))}
        </select>
        <button type="submit" disabled={busy || !bot} data-testid="hook-token-issue">{replaces ? 'Replace token' : 'Issue token'}</button>
      </form>
      <FieldError fields={fields} name="bot" />
      <ErrorLine error={error} testId="hook-tokens-error" />
      {fresh?.token && (
        <OnceSecret label={`Hook token of @${fresh.bot}`} value={fresh.token} testId="hook-token" note="Shown only this once: send it as Authorization: Bearer <token> or X-Bot-Token." />
      )}
      <ul className="pick-list" data-testid="hook-token-list">
        {(items ?? []).map((t) => (
          <li key={t.id} data-testid={`hook-token-${t.id}`} data-bot={t.bot}>
            <span className="pick-main">
              @{t.bot} <span className="muted">{t.token_hint}… · since {when(t.created_at)}</span>
            </span>
            <DeleteButton
              testId="hook-token-revoke"
              onDelete={() => void run(async () => {
                await door.remove(t.id);
                if (fresh?.id === t.id) setFresh(null);
                await load();
              })}
            />
          </li>
        ))}
      </ul>
      {items && items.length === 0 && <p className="muted">No hook tokens.</p>}
    </section>
  );
}
