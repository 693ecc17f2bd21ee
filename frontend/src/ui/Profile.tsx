/**
 * Your profile: display name and time zone. Bots read times of day in the zone
 * (`@remind me at 17:00`) and show times in it (`@oncall who`).
 */
import { useMemo, useState, type FormEvent } from 'react';
import { describeError } from '../net/api';
import { useChat, useSession } from './context';
import { Modal } from './Modal';

/** The zones this browser knows (plus UTC, which some leave out, and the current one). */
export function zoneNames(current: string): string[] {
  const known = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return [...new Set(['UTC', ...known, ...(current ? [current] : [])])].sort();
}

export function deviceZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone ?? '';
  } catch {
    return '';
  }
}

export function Profile({ onClose }: { onClose: () => void }) {
  const session = useSession();
  const me = useChat((s) => s.me);
  const [name, setName] = useState(me?.display_name ?? '');
  const [zone, setZone] = useState(me?.timezone ?? '');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const zones = useMemo(() => zoneNames(me?.timezone ?? ''), [me?.timezone]);
  const device = deviceZone();

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      // The zone is sent only when changed, so the site's zone is not pinned by a save.
      const changes: { display_name: string; timezone?: string } = { display_name: name.trim() };
      if (zone !== (me?.timezone ?? '')) changes.timezone = zone;
      await session.updateProfile(changes);
      onClose();
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  }

  return (
    <Modal title="Your profile" onClose={onClose} testId="profile-dialog">
      <form className="stack" onSubmit={submit}>
        <p className="muted">Signed in as @{me?.username}</p>
        <label>
          Display name
          <input value={name} onChange={(e) => setName(e.target.value)} maxLength={150} data-testid="profile-name" />
        </label>
        <label>
          Time zone
          <select value={zone} onChange={(e) => setZone(e.target.value)} data-testid="profile-timezone">
            <option value="">The site's zone</option>
            {zones.map((z) => (
              <option key={z} value={z}>{z.replaceAll('_', ' ')}</option>
            ))}
          </select>
        </label>
        <p className="muted">
          Bots read times like “at 17:00” in this zone and show times in it.
          {device && device !== zone && (
            <>
              {' '}
              <button type="button" className="link-button" onClick={() => setZone(device)} data-testid="profile-use-device">
                Use this device's zone ({device.replaceAll('_', ' ')})
              </button>
            </>
          )}
        </p>
        {error && <p className="form-error" role="alert" data-testid="profile-error">{error}</p>}
        <button type="submit" disabled={busy} data-testid="profile-save">
          Save
        </button>
      </form>
    </Modal>
  );
}
