/** Small pieces the admin panels share: error lines, a copy box for once-shown secrets. */
import { useState } from 'react';
import { ApiError, describeError } from '../net/api';

/** A 400's `error.fields` as one line of text per field (nested reasons flattened). */
export function fieldErrors(e: unknown): Record<string, string> {
  if (!(e instanceof ApiError)) return {};
  const flat = (v: unknown): string => {
    if (Array.isArray(v)) return v.map(flat).join(' ');
    if (v && typeof v === 'object') {
      return Object.entries(v as Record<string, unknown>)
        .map(([k, x]) => `${k}: ${flat(x)}`)
        .join('; ');
    }
    return String(v);
  };
  return Object.fromEntries(Object.entries(e.fields).map(([k, v]) => [k, flat(v)]));
}

/** Run an admin call, keeping its error (the server's own message, e.g. a 403's reason)
 * and, for a 400, the reason given for each field. */
export function useRunner() {
  const [error, setError] = useState<string | null>(null);
  const [fields, setFields] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  async function run<T>(action: () => Promise<T>): Promise<T | undefined> {
    setError(null);
    setFields({});
    setBusy(true);
    try {
      return await action();
    } catch (e) {
      setError(describeError(e));
      setFields(fieldErrors(e));
      return undefined;
    } finally {
      setBusy(false);
    }
  }
  return { error, fields, busy, run, setError };
}

/** The server's reason for one field, shown right under that field. */
export function FieldError({ fields, name }: { fields: Record<string, string>; name: string }) {
  const reason = fields[name];
  if (!reason) return null;
  return (
    <span className="field-error" role="alert" data-testid={`field-error-${name}`}>
      {reason}
    </span>
  );
}

export function ErrorLine({ error, testId = 'admin-error' }: { error: string | null; testId?: string }) {
  if (!error) return null;
  return (
    <p className="form-error" role="alert" data-testid={testId}>
      {error}
    </p>
  );
}

/** A secret shown once (an invite link, a webhook URL): read-only field plus a Copy button. */
export function OnceSecret(props: { label: string; value: string; testId: string; note?: string }) {
  const [copied, setCopied] = useState(false);
  async function copy() {
    try {
      await navigator.clipboard.writeText(props.value);
      setCopied(true);
    } catch {
      // No clipboard permission (or http): the field is selected instead, for Ctrl+C.
      const field = document.querySelector<HTMLInputElement>(`[data-testid="${props.testId}"]`);
      field?.select();
    }
  }
  return (
    <div className="once-secret" role="status">
      <label>
        {props.label}
        <input readOnly value={props.value} data-testid={props.testId} onFocus={(e) => e.currentTarget.select()} />
      </label>
      <button type="button" onClick={() => void copy()} data-testid={`${props.testId}-copy`}>
        {copied ? 'Copied' : 'Copy'}
      </button>
      <p className="muted">{props.note ?? 'Shown only this once: copy it now.'}</p>
    </div>
  );
}

export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}
