import type { PendingSend } from '../state/model';
import { useChat, useSession } from './context';
import { timeLabel } from './format';

/** A message I sent that the server has not acknowledged yet. */
export function PendingItem({ pending, grouped }: { pending: PendingSend; grouped: boolean }) {
  const session = useSession();
  const me = useChat((s) => s.me);
  const online = useChat((s) => s.connection === 'online');
  const status =
    pending.status === 'failed'
      ? `Not sent: ${pending.error ?? 'error'}`
      : pending.status === 'sending'
        ? 'Sending…'
        : online
          ? 'Sending…'
          : 'Waiting for connection…';
  return (
    <article
      className={`message pending status-${pending.status}${grouped ? ' grouped' : ''}`}
      data-testid="message-pending"
      data-client-msg-id={pending.clientMsgId}
      data-status={pending.status}
    >
      {!grouped && (
        <header className="message-header">
          <span className="author">{me?.display_name || me?.username}</span>
          <time dateTime={pending.createdAt}>{timeLabel(pending.createdAt)}</time>
        </header>
      )}
      <div className="message-body plain">{pending.body}</div>
      <div className="pending-status" data-testid="pending-status">
        {status}
        {pending.status === 'failed' && (
          <>
            {' '}
            <button type="button" className="link-button" onClick={() => session.retrySend(pending.clientMsgId)} data-testid="pending-retry">
              Retry
            </button>{' '}
            <button type="button" className="link-button" onClick={() => session.discardSend(pending.clientMsgId)} data-testid="pending-discard">
              Discard
            </button>
          </>
        )}
      </div>
    </article>
  );
}
