/**
 * The Bots and Webhooks sections of a room's settings (room admins and site
 * admins). Loaded on demand with the settings dialog's lower half.
 */
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { useSession } from '../ui/context';
import { adminApi, type AdminApi, type AdminBot, type Delivery, type Webhook } from './api';
import { ErrorLine, OnceSecret, useRunner, when } from './common';

export default function RoomIntegrations({ roomId }: { roomId: number }) {
  const session = useSession();
  const api = useMemo(() => adminApi(session.api), [session]);
  return (
    <>
      <RoomBots api={api} roomId={roomId} />
      <RoomWebhooks api={api} roomId={roomId} />
    </>
  );
}

function RoomBots({ api, roomId }: { api: AdminApi; roomId: number }) {
  const [all, setAll] = useState<AdminBot[]>([]);
  const [enabled, setEnabled] = useState<Set<number>>(new Set());
  const { error, busy, run } = useRunner();

  async function load() {
    const [bots, inRoom] = await Promise.all([api.bots(), api.roomBots(roomId)]);
    setAll(bots.results);
    setEnabled(new Set(inRoom.results.map((b) => b.id)));
  }
  useEffect(() => {
    void run(load);
  }, [api, roomId]);

  function toggle(bot: AdminBot) {
    void run(async () => {
      if (enabled.has(bot.id)) await api.disableBot(roomId, bot.id);
      else await api.enableBot(roomId, bot.id);
      await load();
    });
  }

  return (
    <section className="settings-members" data-testid="room-bots">
      <h3>Bots</h3>
      <ErrorLine error={error} testId="room-bots-error" />
      <ul className="pick-list">
        {all.map((b) => (
          <li key={b.id} data-testid={`room-bot-${b.id}`} data-enabled={String(enabled.has(b.id))}>
            <span className="pick-main">
              {b.display_name || b.username} <span className="muted">@{b.username}</span>
              {b.paused && <span className="badge-paused">paused</span>}
            </span>
            <button type="button" disabled={busy} onClick={() => toggle(b)} data-testid="room-bot-toggle">
              {enabled.has(b.id) ? 'Disable' : 'Enable'}
            </button>
          </li>
        ))}
      </ul>
      {all.length === 0 && <p className="muted">No bots on this server.</p>}
    </section>
  );
}

function RoomWebhooks({ api, roomId }: { api: AdminApi; roomId: number }) {
  const [hooks, setHooks] = useState<Webhook[]>([]);
  const [name, setName] = useState('');
  const [fresh, setFresh] = useState<Webhook | null>(null);
  const [open, setOpen] = useState<number | null>(null);
  const { error, busy, run } = useRunner();

  const load = async () => setHooks((await api.webhooks(roomId)).results);
  useEffect(() => {
    void run(load);
  }, [api, roomId]);

  function create(e: FormEvent) {
    e.preventDefault();
    void run(async () => {
      const hook = await api.createWebhook(roomId, { name: name.trim(), kind: 'incoming' });
      setFresh(hook);
      setName('');
      await load();
    });
  }

  return (
    <section className="settings-members" data-testid="room-webhooks">
      <h3>Incoming webhooks</h3>
      <form className="inline-form" onSubmit={create}>
        <input placeholder="Name, e.g. CI" aria-label="Webhook name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} data-testid="webhook-name" />
        <button type="submit" disabled={busy} data-testid="webhook-create">Create</button>
      </form>
      <ErrorLine error={error} testId="webhooks-error" />
      {fresh?.url && (
        <OnceSecret label={`POST messages to (${fresh.name})`} value={fresh.url} testId="webhook-url" note="Shown only this once: the URL holds the token." />
      )}
      {fresh?.token && (
        <OnceSecret label="Token (the last part of the URL)" value={fresh.token} testId="webhook-token" note="Only its hash is kept: it cannot be shown again." />
      )}
      <ul className="pick-list" data-testid="webhook-list">
        {hooks.map((h) => (
          <li key={h.id} data-testid={`webhook-${h.id}`} className="webhook-row">
            <div className="webhook-line">
              <span className="pick-main">
                {h.name} <span className="muted">{h.kind} · {h.token_hint}</span>
              </span>
              <button type="button" onClick={() => setOpen(open === h.id ? null : h.id)} data-testid="webhook-deliveries">
                {open === h.id ? 'Hide' : 'Deliveries'}
              </button>
              <button
                type="button"
                className="danger"
                onClick={() => void run(async () => {
                  await api.revokeWebhook(roomId, h.id);
                  if (open === h.id) setOpen(null);
                  await load();
                })}
                data-testid="webhook-revoke"
              >
                Revoke
              </button>
            </div>
            {open === h.id && <Deliveries api={api} roomId={roomId} hookId={h.id} />}
          </li>
        ))}
      </ul>
    </section>
  );
}

function Deliveries({ api, roomId, hookId }: { api: AdminApi; roomId: number; hookId: number }) {
  const [rows, setRows] = useState<Delivery[] | null>(null);
  const { error, run } = useRunner();
  const load = async () => setRows((await api.deliveries(roomId, hookId)).results);
  useEffect(() => {
    void run(load);
  }, [roomId, hookId]);

  return (
    <div className="deliveries" data-testid="delivery-list">
      <ErrorLine error={error} testId="delivery-error" />
      {rows && rows.length === 0 && <p className="muted">No deliveries yet.</p>}
      {(rows ?? []).map((d) => (
        <div key={d.id} className="delivery" data-testid={`delivery-${d.id}`} data-status={d.status}>
          <div>
            <strong>{d.status}</strong> <span className="muted">{d.direction} · {d.format} · {when(d.created_at)}{d.replays ? ` · replayed ${d.replays}×` : ''}</span>
            {d.direction === 'in' && (
              <button type="button" onClick={() => void run(async () => {
                await api.replay(roomId, hookId, d.id);
                await load();
              })} data-testid="delivery-replay">
                Replay
              </button>
            )}
          </div>
          {d.error && <div className="form-error">{d.error}</div>}
          <pre className="delivery-body">{clip(String(d.body ?? ''))}</pre>
        </div>
      ))}
    </div>
  );
}

function clip(body: string): string {
  return body.length > 500 ? `${body.slice(0, 500)}…` : body;
}
