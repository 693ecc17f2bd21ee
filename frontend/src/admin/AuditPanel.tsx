/** The audit log: filters (actor, action prefix, room, since, until, text), pages, CSV/JSON export. */
import { useEffect, useState } from 'react';
import { useSession } from '../ui/context';
import { auditExportUrl, type AdminApi, type AuditEntry, type AuditFilters } from './api';
import { ErrorLine, useRunner, when } from './common';

const FIELDS: { key: keyof AuditFilters; label: string; type?: string; placeholder?: string }[] = [
  { key: 'actor', label: 'Actor (user id)', placeholder: 'e.g. 4' },
  { key: 'action', label: 'Action', placeholder: 'e.g. user.' },
  { key: 'room', label: 'Room (id)', placeholder: 'e.g. 7' },
  { key: 'since', label: 'Since', type: 'datetime-local' },
  { key: 'until', label: 'Until', type: 'datetime-local' },
  { key: 'q', label: 'Text', placeholder: 'name, address, detail' },
];

export function AuditPanel({ api }: { api: AdminApi }) {
  const session = useSession();
  const [filters, setFilters] = useState<AuditFilters>({});
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [next, setNext] = useState<number | string | null>(null);
  const { error, run } = useRunner();

  function load(cursor: number | string | null = null) {
    return run(async () => {
      const page = await api.audit(filters, cursor);
      setEntries((prev) => (cursor && prev ? [...prev, ...page.results] : page.results));
      setNext(page.next);
    });
  }

  useEffect(() => {
    const t = setTimeout(() => void load(), 300);
    return () => clearTimeout(t);
  }, [filters]);

  const base = '/api/v1';
  return (
    <section className="admin-panel" data-testid="admin-audit">
      <form className="admin-filters" onSubmit={(e) => { e.preventDefault(); void load(); }}>
        {FIELDS.map((f) => (
          <label key={f.key}>
            {f.label}
            <input
              type={f.type ?? 'text'}
              placeholder={f.placeholder}
              value={filters[f.key] ?? ''}
              onChange={(e) => setFilters({ ...filters, [f.key]: e.target.value })}
              data-testid={`audit-${f.key}`}
            />
          </label>
        ))}
      </form>
      <div className="button-row">
        <a className="button" href={auditExportUrl(base, filters, 'csv', session.api.query)} download="audit.csv" data-testid="audit-export-csv">Export CSV</a>
        <a className="button" href={auditExportUrl(base, filters, 'json', session.api.query)} download="audit.json" data-testid="audit-export-json">Export JSON</a>
      </div>
      <ErrorLine error={error} />
      <div className="table-wrap">
        <table className="admin-table" data-testid="audit-list">
          <thead>
            <tr>
              <th>When</th>
              <th>Who</th>
              <th>Action</th>
              <th>Target</th>
              <th className="wide-only">Address</th>
              <th className="wide-only">Detail</th>
            </tr>
          </thead>
          <tbody>
            {(entries ?? []).map((e) => (
              <tr key={e.id} data-testid="audit-entry" data-action={e.action} data-target={e.target}>
                <td>{when(e.at)}</td>
                <td>
                  {e.actor != null ? (
                    <button type="button" className="link-button" title="Only this actor" onClick={() => setFilters({ ...filters, actor: String(e.actor) })} data-testid="audit-pick-actor">
                      {e.actor_username ?? e.actor}
                    </button>
                  ) : '—'}
                </td>
                <td><code>{e.action}</code></td>
                <td>
                  {e.target}
                  {e.room != null && (
                    <button type="button" className="link-button muted" title="Only this room" onClick={() => setFilters({ ...filters, room: String(e.room) })} data-testid="audit-pick-room">
                      room {e.room}
                    </button>
                  )}
                </td>
                <td className="wide-only">{e.ip ?? ''}</td>
                <td className="wide-only small"><code>{e.detail == null ? '' : JSON.stringify(e.detail)}</code></td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {entries && entries.length === 0 && <p className="muted" data-testid="audit-empty">No entries match.</p>}
      {next != null && <button type="button" onClick={() => void load(next)} data-testid="audit-more">More</button>}
    </section>
  );
}
