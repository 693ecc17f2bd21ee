/** Small pieces the admin panels share: error lines, a copy box for once-shown secrets. */
import { useState } from 'react';
import { describeError } from '../net/api';

/** Run an admin call, keeping its error (the server's own message, e.g. a 403's reason). */
export function useRunner() {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function run<T>(action: () => Promise<T>): Promise<T | undefined> {
    setError(null);
    setBusy(true);
    try {
      return await action();
    } catch (e) {
      setError(describeError(e));
      return undefined;
    } finally {
      setBusy(false);
    }
  }
  return { error, busy, run, setError };
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
