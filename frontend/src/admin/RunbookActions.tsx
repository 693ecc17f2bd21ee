/**
 * Runbook actions: the allow-listed commands the runbook bot may run. An argv
 * template (never a shell) with typed parameters, a working directory, a
 * timeout, an environment allow-list, who may run it and whether a second
 * person must approve. The server validates everything; its reasons are shown
 * next to the fields.
 */
import { useCallback, useEffect, useMemo, useState, type FormEvent } from 'react';
import type { AdminApi, RunbookAction } from './api';
import {
  DraftError,
  emptyParam,
  emptyRunbook,
  runbookDraft,
  runbookPayload,
  type ParamDraft,
  type RunbookDraft,
} from './botData';
import { ErrorLine, FieldError, useRunner } from './common';

export function RunbookActions({ api }: { api: AdminApi }) {
  const door = useMemo(() => api.botData<RunbookAction>('runbook-actions'), [api]);
  const [items, setItems] = useState<RunbookAction[] | null>(null);
  /** null: no form; 0: a new action; an id: editing that action. */
  const [editing, setEditing] = useState<number | null>(null);
  const [confirm, setConfirm] = useState<number | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const { error, run } = useRunner();

  const load = useCallback(async () => setItems((await door.list()).results), [door]);
  useEffect(() => {
    void run(load);
  }, [load]);

  const current = editing ? (items?.find((a) => a.id === editing) ?? null) : null;
  return (
    <section className="admin-subsection" data-testid="runbook-actions">
      <div className="section-head">
        <h3>Runbook actions</h3>
        <button type="button" onClick={() => { setSaved(null); setEditing(editing === 0 ? null : 0); }} data-testid="runbook-new">
          {editing === 0 ? 'Close' : 'New action'}
        </button>
      </div>
      <ErrorLine error={error} testId="runbook-error" />
      {saved && <p className="form-note" role="status" data-testid="runbook-saved">{saved}</p>}
      {editing !== null && (
        <RunbookForm
          key={editing}
          initial={current ? runbookDraft(current) : emptyRunbook()}
          isNew={editing === 0}
          onCancel={() => setEditing(null)}
          onSave={async (payload) => {
            const action = editing ? await door.update(editing, payload) : await door.create(payload);
            setEditing(null);
            setSaved(`Saved ${action.name}.`);
            await load();
          }}
        />
      )}
      <div className="table-wrap">
        <table className="admin-table" data-testid="runbook-list">
          <thead>
            <tr>
              <th>Action</th>
              <th>Command</th>
              <th className="wide-only">Who may run</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {(items ?? []).map((a) => (
              <tr key={a.id} data-testid={`runbook-${a.id}`} data-name={a.name} data-enabled={String(a.enabled)}>
                <td>
                  <strong>{a.name}</strong>
                  {!a.enabled && <span className="badge-paused">disabled</span>}
                  {a.needs_approval && <span className="badge-approval">needs approval</span>}
                  {a.description && <div className="muted small">{a.description}</div>}
                </td>
                <td>
                  <code>{a.argv.join(' ')}</code>
                  <div className="muted small">timeout {a.timeout_seconds} s{a.cwd ? ` · in ${a.cwd}` : ''}</div>
                </td>
                <td className="wide-only">{(a.run_policy.length ? a.run_policy : ['room:member']).join(', ')}</td>
                <td>
                  <span className="row-actions">
                    <button type="button" onClick={() => { setSaved(null); setEditing(a.id); }} data-testid="runbook-edit">Edit</button>
                    <button
                      type="button"
                      onClick={() => void run(async () => {
                        await door.update(a.id, { enabled: !a.enabled });
                        await load();
                      })}
                      data-testid="runbook-toggle"
                    >
                      {a.enabled ? 'Disable' : 'Enable'}
                    </button>
                    {confirm === a.id ? (
                      <button
                        type="button"
                        className="danger"
                        onClick={() => {
                          setConfirm(null);
                          void run(async () => {
                            await door.remove(a.id);
                            if (editing === a.id) setEditing(null);
                            await load();
                          });
                        }}
                        data-testid="confirm-runbook-delete"
                      >
                        Delete for good
                      </button>
                    ) : (
                      <button type="button" className="danger" onClick={() => setConfirm(a.id)} data-testid="runbook-delete">Delete</button>
                    )}
                  </span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {items && items.length === 0 && <p className="muted" data-testid="runbook-empty">No runbook actions yet.</p>}
    </section>
  );
}

function RunbookForm(props: {
  initial: RunbookDraft;
  isNew: boolean;
  onSave: (payload: Record<string, unknown>) => Promise<void>;
  onCancel: () => void;
}) {
  const [d, setD] = useState<RunbookDraft>(props.initial);
  const { error, fields, busy, run, setError } = useRunner();
  const [local, setLocal] = useState<Record<string, string>>({});
  const shown = { ...fields, ...local };
  const set = (changes: Partial<RunbookDraft>) => setD((x) => ({ ...x, ...changes }));
  const setParam = (key: number, changes: Partial<ParamDraft>) =>
    set({ params: d.params.map((p) => (p.key === key ? { ...p, ...changes } : p)) });

  function submit(e: FormEvent) {
    e.preventDefault();
    setLocal({});
    let payload: Record<string, unknown>;
    try {
      payload = runbookPayload(d);
    } catch (err) {
      if (err instanceof DraftError) {
        setLocal(err.fields);
        setError('Check the marked fields.');
        return;
      }
      throw err;
    }
    void run(() => props.onSave(payload));
  }

  return (
    <form className="stack bot-form" onSubmit={submit} data-testid="runbook-form">
      <h4>{props.isNew ? 'New runbook action' : `Edit ${props.initial.name}`}</h4>
      <label>
        Name (lower-case, used as <code>/runbook run NAME</code>)
        <input value={d.name} onChange={(e) => set({ name: e.target.value })} required maxLength={40} data-testid="rb-name" />
        <FieldError fields={shown} name="name" />
      </label>
      <label>
        Description
        <input value={d.description} onChange={(e) => set({ description: e.target.value })} maxLength={200} data-testid="rb-description" />
        <FieldError fields={shown} name="description" />
      </label>
      <label>
        Command: the program, then one argument a line; <code>{'{param}'}</code> fills in a parameter (never the program)
        <textarea rows={3} value={d.argv} onChange={(e) => set({ argv: e.target.value })} spellCheck={false} data-testid="rb-argv" />
        <FieldError fields={shown} name="argv" />
      </label>
      <fieldset className="param-list" data-testid="rb-params">
        <legend>Parameters</legend>
        {d.params.map((p) => (
          <div className="param-row" key={p.key} data-testid="rb-param">
            <input aria-label="Parameter name" placeholder="name" value={p.name} onChange={(e) => setParam(p.key, { name: e.target.value })} data-testid="rb-param-name" />
            <select aria-label="Type" value={p.type} onChange={(e) => setParam(p.key, { type: e.target.value as ParamDraft['type'] })} data-testid="rb-param-type">
              <option value="str">text</option>
              <option value="int">number</option>
              <option value="choice">choice</option>
            </select>
            {p.type === 'choice' && (
              <input aria-label="Choices" placeholder="choices: api, web" value={p.choices} onChange={(e) => setParam(p.key, { choices: e.target.value })} data-testid="rb-param-choices" />
            )}
            {p.type === 'str' && (
              <input aria-label="Pattern" placeholder="pattern (regex, optional)" value={p.pattern} onChange={(e) => setParam(p.key, { pattern: e.target.value })} data-testid="rb-param-pattern" />
            )}
            {p.type === 'int' && (
              <>
                <input aria-label="Minimum" placeholder="min" inputMode="numeric" value={p.min} onChange={(e) => setParam(p.key, { min: e.target.value })} data-testid="rb-param-min" />
                <input aria-label="Maximum" placeholder="max" inputMode="numeric" value={p.max} onChange={(e) => setParam(p.key, { max: e.target.value })} data-testid="rb-param-max" />
              </>
            )}
            <input aria-label="Default" placeholder="default" value={p.default} onChange={(e) => setParam(p.key, { default: e.target.value })} data-testid="rb-param-default" />
            <label className="check">
              <input type="checkbox" checked={p.required} onChange={(e) => setParam(p.key, { required: e.target.checked })} data-testid="rb-param-required" />
              required
            </label>
            <button type="button" onClick={() => set({ params: d.params.filter((x) => x.key !== p.key) })} data-testid="rb-param-remove">Remove</button>
          </div>
        ))}
        <button type="button" onClick={() => set({ params: [...d.params, emptyParam()] })} data-testid="rb-param-add">Add parameter</button>
        <FieldError fields={shown} name="params" />
      </fieldset>
      <label>
        Working directory (absolute path, or empty)
        <input value={d.cwd} onChange={(e) => set({ cwd: e.target.value })} maxLength={500} spellCheck={false} data-testid="rb-cwd" />
        <FieldError fields={shown} name="cwd" />
      </label>
      <label>
        Environment: NAME=value, one a line (added to PATH, LANG, LC_ALL, TZ; nothing else is passed on)
        <textarea rows={2} value={d.env} onChange={(e) => set({ env: e.target.value })} spellCheck={false} data-testid="rb-env" />
        <FieldError fields={shown} name="env" />
      </label>
      <label>
        Timeout (seconds, 1-3600)
        <input type="number" min={1} max={3600} value={d.timeout} onChange={(e) => set({ timeout: e.target.value })} data-testid="rb-timeout" />
        <FieldError fields={shown} name="timeout_seconds" />
      </label>
      <label>
        Who may run it (everyone, room:member, room:admin, site:admin, role:NAME, user:ID)
        <input value={d.runPolicy} onChange={(e) => set({ runPolicy: e.target.value })} spellCheck={false} data-testid="rb-policy" />
        <FieldError fields={shown} name="run_policy" />
      </label>
      <label className="check">
        <input type="checkbox" checked={d.needsApproval} onChange={(e) => set({ needsApproval: e.target.checked })} data-testid="rb-approval" />
        A second person must approve each run
      </label>
      <label className="check">
        <input type="checkbox" checked={d.enabled} onChange={(e) => set({ enabled: e.target.checked })} data-testid="rb-enabled" />
        Enabled
      </label>
      <FieldError fields={shown} name="non_field" />
      <ErrorLine error={error} testId="runbook-form-error" />
      <div className="button-row">
        <button type="submit" disabled={busy} data-testid="rb-submit">{props.isNew ? 'Create action' : 'Save'}</button>
        <button type="button" onClick={props.onCancel} data-testid="rb-cancel">Cancel</button>
      </div>
    </form>
  );
}
