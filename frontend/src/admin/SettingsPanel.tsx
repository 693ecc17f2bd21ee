/** Site settings: the site-wide message retention (null keeps messages forever). */
import { useEffect, useState, type FormEvent } from 'react';
import type { AdminApi, SiteSettings } from './api';
import { ErrorLine, useRunner, when } from './common';

export function SettingsPanel({ api }: { api: AdminApi }) {
  const [settings, setSettings] = useState<SiteSettings | null>(null);
  const [days, setDays] = useState('');
  const [saved, setSaved] = useState(false);
  const { error, busy, run } = useRunner();

  useEffect(() => {
    void run(async () => {
      const s = await api.settings();
      setSettings(s);
      setDays(s.retention_days == null ? '' : String(s.retention_days));
    });
  }, [api]);

  function save(e: FormEvent) {
    e.preventDefault();
    setSaved(false);
    void run(async () => {
      const s = await api.updateSettings({ retention_days: days.trim() ? Number(days) : null });
      setSettings(s);
      setSaved(true);
    });
  }

  return (
    <section className="admin-panel" data-testid="admin-settings">
      <form className="stack" onSubmit={save}>
        <label>
          Delete messages older than (days; empty keeps them forever)
          <input type="number" min={1} max={36500} value={days} onChange={(e) => setDays(e.target.value)} data-testid="settings-retention" />
        </label>
        <p className="muted">Rooms may set their own. Last run: {when(settings?.retention_last_run)}</p>
        <ErrorLine error={error} />
        {saved && <p className="form-note" role="status" data-testid="settings-saved">Saved.</p>}
        <div className="button-row">
          <button type="submit" disabled={busy} data-testid="settings-retention-save">Save</button>
        </div>
      </form>
    </section>
  );
}
