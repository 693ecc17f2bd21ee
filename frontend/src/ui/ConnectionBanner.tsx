import { useChat } from './context';

const TEXT = {
  connecting: 'Connecting…',
  syncing: 'Catching up…',
  reconnecting: 'Connection lost. Reconnecting…',
  signedOut: 'Signed out.',
  online: 'Connected',
} as const;

/** Always present (for tests); visible only while not live. */
export function ConnectionBanner() {
  const status = useChat((s) => s.connection);
  const queued = useChat((s) => s.pending.filter((p) => p.status !== 'failed').length);
  const hidden = status === 'online';
  return (
    <div
      className={`connection-banner ${hidden ? 'hidden' : ''} state-${status}`}
      role="status"
      aria-live="polite"
      data-testid="connection-status"
      data-state={status}
    >
      {TEXT[status]}
      {!hidden && queued > 0 ? ` ${queued} message${queued === 1 ? '' : 's'} will be sent when back.` : ''}
    </div>
  );
}
