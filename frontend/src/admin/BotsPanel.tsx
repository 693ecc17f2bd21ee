/**
 * Bots: every bot with its commands and paused state (site admins resume or
 * pause one), then the sections of the bots' admin data: bot accounts' API
 * tokens, runbook actions, on-call rotations, status endpoints, hook tokens
 * (BotAdmin, loaded on demand).
 */
import { lazy, Suspense, useEffect, useState } from 'react';
import type { AdminApi, AdminBot } from './api';
import type { BotSection } from './BotAdmin';
import { ErrorLine, useRunner } from './common';

const BotAdmin = lazy(() => import('./BotAdmin'));

const SECTIONS: [BotSection | 'bots', string][] = [
  ['bots', 'Bots'],
  ['tokens', 'API tokens'],
  ['runbooks', 'Runbook actions'],
  ['rotations', 'On-call rotations'],
  ['status', 'Status endpoints'],
  ['hooks', 'Hook tokens'],
];

export function BotsPanel({ api }: { api: AdminApi }) {
  const [section, setSection] = useState<BotSection | 'bots'>('bots');
  return (
    <section className="admin-panel" data-testid="admin-bots" data-section={section}>
      <nav className="bot-sections" aria-label="Bot administration">
        {SECTIONS.map(([key, label]) => (
          <button key={key} type="button" aria-pressed={key === section} onClick={() => setSection(key)} data-testid={`bots-section-${key}`}>
            {label}
          </button>
        ))}
      </nav>
      {section === 'bots' ? (
        <BotList api={api} />
      ) : (
        <Suspense fallback={<p className="muted" data-testid="loading">Loading…</p>}>
          <BotAdmin api={api} section={section} />
        </Suspense>
      )}
    </section>
  );
}

function BotList({ api }: { api: AdminApi }) {
  const [bots, setBots] = useState<AdminBot[] | null>(null);
  const { error, run } = useRunner();

  useEffect(() => {
    void run(async () => setBots((await api.bots()).results));
  }, [api]);

  function setPaused(bot: AdminBot, paused: boolean) {
    void run(async () => {
      const fresh = await api.setBotPaused(bot.id, paused);
      setBots((list) => list?.map((b) => (b.id === bot.id ? { ...b, ...fresh } : b)) ?? null);
    });
  }

  return (
    <div data-testid="admin-bot-section">
      <p className="muted">Enable a bot in a room from that room's settings (Bots).</p>
      <ErrorLine error={error} />
      <ul className="pick-list" data-testid="admin-bot-list">
        {(bots ?? []).map((b) => (
          <li key={b.id} data-testid={`admin-bot-${b.id}`} data-paused={String(!!b.paused)}>
            <span className="pick-main">
              <strong>{b.display_name || b.username}</strong> <span className="muted">@{b.username}</span>
              {b.paused && <span className="badge-paused">paused</span>}
              {b.description && <div className="muted small">{b.description}</div>}
              {b.commands.length > 0 && (
                <div className="muted small">{b.commands.map((c) => c.name).join(' · ')}</div>
              )}
            </span>
            <button type="button" className={b.paused ? '' : 'danger'} onClick={() => setPaused(b, !b.paused)} data-testid={b.paused ? 'bot-resume' : 'bot-pause'}>
              {b.paused ? 'Resume' : 'Pause'}
            </button>
          </li>
        ))}
      </ul>
      {bots && bots.length === 0 && <p className="muted">This server runs no bots.</p>}
    </div>
  );
}
