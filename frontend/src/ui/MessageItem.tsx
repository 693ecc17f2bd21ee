import { memo, useState } from 'react';
import { messageLink } from '../app/route';
import { describeError } from '../net/api';
import { canModifyMessage, canPin } from '../state/selectors';
import type { Message } from '../types';
import { useChat, useSession } from './context';
import { fullTime, timeLabel } from './format';
import { Icon } from './icons';
import { Reactions, ReactionPicker } from './Reactions';
import { copyText, toast } from './toast';

interface Props {
  message: Message;
  grouped: boolean;
  highlighted?: boolean;
  ephemeral?: boolean;
  inThread?: boolean;
  onOpenThread?: (rootId: number) => void;
}

export const MessageItem = memo(function MessageItem(props: Props) {
  const { message, grouped, highlighted, ephemeral, inThread, onOpenThread } = props;
  const session = useSession();
  const me = useChat((s) => s.me);
  const room = useChat((s) => s.rooms[message.room]);
  const pinner = useChat((s) => (message.pinned_by != null ? s.users[message.pinned_by] : undefined));
  const [editing, setEditing] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const author = message.author;
  const mine = !!me && author.id === me.id;
  const canModify = !ephemeral && canModifyMessage(me, message);
  const pinned = !ephemeral && message.pinned_at != null;

  async function togglePin() {
    try {
      await session.togglePin(message);
    } catch (e) {
      toast(`Cannot ${pinned ? 'unpin' : 'pin'}: ${describeError(e)}`);
    }
  }

  async function copyLink() {
    const ok = await copyText(messageLink(window.location.origin, message.room, message.id));
    toast(ok ? 'Link copied.' : 'Could not copy the link.');
  }

  async function remove() {
    setConfirmDelete(false);
    try {
      await session.deleteMessage(message.id);
    } catch (e) {
      toast(`Cannot delete: ${describeError(e)}`);
    }
  }

  // In the header line (no extra height); on a line of its own under a grouped message.
  const pinMarker = pinned && (
    <span className="pinned-marker" data-testid="pinned-marker" title={`Pinned ${fullTime(message.pinned_at!)}`}>
      <Icon name="pin" size={12} /> Pinned{pinner ? ` by ${pinner.display_name || pinner.username}` : ''}
    </span>
  );

  const classes = [
    'message',
    grouped ? 'grouped' : '',
    highlighted ? 'highlighted' : '',
    ephemeral ? 'ephemeral' : '',
    mine ? 'mine' : '',
    pinned ? 'pinned' : '',
  ]
    .filter(Boolean)
    .join(' ');

  return (
    <article
      className={classes}
      tabIndex={-1}
      data-testid={ephemeral ? 'message-ephemeral' : `message-${message.id}`}
      data-message-id={message.id}
      data-author={author.username}
      data-pinned={pinned ? 'true' : undefined}
    >
      {!grouped && (
        <header className="message-header">
          <span className="author" data-testid="message-author">
            {author.display_name || author.username}
          </span>
          {author.is_bot && (
            <span className="bot-badge" data-testid="bot-badge">
              BOT
            </span>
          )}
          <time dateTime={message.created_at} title={fullTime(message.created_at)}>
            {timeLabel(message.created_at)}
          </time>
          {ephemeral && <span className="ephemeral-note">Only visible to you</span>}
          {pinned && pinMarker}
        </header>
      )}
      {pinned && grouped && pinMarker}
      {editing ? (
        <EditBox message={message} onDone={() => setEditing(false)} />
      ) : (
        <div className="message-content">
          {message.html ? (
            // The one place server HTML is inserted: message.html, sanitized by the server.
            <div className="message-body" data-testid="message-body" dangerouslySetInnerHTML={{ __html: message.html }} />
          ) : (
            <div className="message-body plain" data-testid="message-body">
              {message.body}
            </div>
          )}
          {message.edited_at && (
            <span className="edited" title={`Edited ${fullTime(message.edited_at)}`} data-testid="edited-marker">
              (edited)
            </span>
          )}
        </div>
      )}
      <Reactions message={message} disabled={ephemeral} />
      {!inThread && message.thread_id == null && message.reply_count > 0 && (
        <button type="button" className="reply-count link-button" onClick={() => onOpenThread?.(message.id)} data-testid="reply-count">
          {message.reply_count} {message.reply_count === 1 ? 'reply' : 'replies'}
        </button>
      )}
      {confirmDelete && (
        <div className="confirm-delete" role="alert">
          Delete this message?{' '}
          <button type="button" className="danger" onClick={() => void remove()} data-testid="confirm-delete">
            Delete
          </button>{' '}
          <button type="button" onClick={() => setConfirmDelete(false)} data-testid="cancel-delete">
            Cancel
          </button>
        </div>
      )}
      {!ephemeral && !editing && (
        <div className="message-actions" data-testid="message-actions">
          <ReactionPicker message={message} />
          {!inThread && message.thread_id == null && (
            <button type="button" className="icon-button" title="Reply in thread" aria-label="Reply in thread" onClick={() => onOpenThread?.(message.id)} data-testid="action-reply"><Icon name="reply" /></button>
          )}
          <button type="button" className="icon-button" title="Copy link" aria-label="Copy link" onClick={() => void copyLink()} data-testid="action-copy-link"><Icon name="link" /></button>
          {canPin(me, room) && (
            <button
              type="button"
              className={`icon-button${pinned ? ' active' : ''}`}
              title={pinned ? 'Unpin from the room' : 'Pin to the room'}
              aria-label={pinned ? 'Unpin' : 'Pin'}
              aria-pressed={pinned}
              onClick={() => void togglePin()}
              data-testid={pinned ? 'action-unpin' : 'action-pin'}
            >
              <Icon name="pin" />
            </button>
          )}
          {canModify && (
            <>
              <button type="button" className="icon-button" title="Edit" aria-label="Edit" onClick={() => setEditing(true)} data-testid="action-edit"><Icon name="edit" /></button>
              <button type="button" className="icon-button" title="Delete" aria-label="Delete" onClick={() => setConfirmDelete(true)} data-testid="action-delete"><Icon name="trash" /></button>
            </>
          )}
        </div>
      )}
    </article>
  );
});

function EditBox({ message, onDone }: { message: Message; onDone: () => void }) {
  const session = useSession();
  const [text, setText] = useState(message.body);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function save() {
    const body = text.trim();
    if (!body || body === message.body) {
      onDone();
      return;
    }
    setBusy(true);
    try {
      await session.editMessage(message.id, body);
      onDone();
    } catch (e) {
      setError(describeError(e));
      setBusy(false);
    }
  }

  return (
    <div className="edit-box">
      <textarea
        value={text}
        autoFocus
        rows={Math.min(10, text.split('\n').length + 1)}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
            e.preventDefault();
            void save();
          } else if (e.key === 'Escape') {
            e.stopPropagation();
            onDone();
          }
        }}
        disabled={busy}
        data-testid="edit-input"
        aria-label="Edit message"
      />
      {error && <p className="form-error">{error}</p>}
      <div className="edit-actions">
        <button type="button" onClick={() => void save()} disabled={busy} data-testid="edit-save">
          Save
        </button>
        <button type="button" onClick={onDone} disabled={busy} data-testid="edit-cancel">
          Cancel
        </button>
        <span className="hint">Enter to save · Esc to cancel</span>
      </div>
    </div>
  );
}
