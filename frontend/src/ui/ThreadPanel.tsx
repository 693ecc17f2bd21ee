import { useEffect, useMemo, useRef, useState } from 'react';
import { describeError } from '../net/api';
import { canPost, threadEntries } from '../state/selectors';
import { Composer } from './Composer';
import { useChat, useSession } from './context';
import { EntryRow } from './EntryRow';
import { Icon } from './icons';
import { MessageItem } from './MessageItem';

/** A thread beside the room: the root, its replies, and a composer that replies in it. */
export function ThreadPanel({ roomId, rootId, onClose }: { roomId: number; rootId: number; onClose: () => void }) {
  const session = useSession();
  const root = useChat((s) => s.messages[rootId]);
  const thread = useChat((s) => s.threads[rootId]);
  const messages = useChat((s) => s.messages);
  const ephemeral = useChat((s) => s.ephemeral[roomId]);
  const pending = useChat((s) => s.pending);
  const room = useChat((s) => s.rooms[roomId]);
  const me = useChat((s) => s.me);
  const [error, setError] = useState<string | null>(null);
  const bottom = useRef<HTMLDivElement>(null);

  const loaded = !!thread?.loaded;
  useEffect(() => {
    if (loaded) return;
    setError(null);
    session.loadThread(rootId).catch((e) => setError(describeError(e)));
  }, [session, rootId, loaded]);

  const entries = useMemo(
    () => threadEntries(rootId, thread?.ids ?? [], messages, ephemeral, pending),
    [rootId, thread, messages, ephemeral, pending],
  );

  useEffect(() => {
    bottom.current?.scrollIntoView({ block: 'end' });
  }, [entries.length]);

  return (
    <aside className="thread-panel" aria-label="Thread" data-testid="thread-panel" data-root-id={rootId}>
      <header className="thread-header">
        <h2>Thread</h2>
        <button type="button" className="icon-button" aria-label="Close thread" onClick={onClose} data-testid="thread-close"><Icon name="close" /></button>
      </header>
      <div className="thread-scroll">
        {root ? (
          <div className="thread-root" data-testid="thread-root">
            <MessageItem message={root} grouped={false} inThread />
          </div>
        ) : (
          <p className="notice">This message is no longer available.</p>
        )}
        <div className="thread-count" data-testid="thread-reply-count">
          {root ? `${root.reply_count} ${root.reply_count === 1 ? 'reply' : 'replies'}` : ''}
        </div>
        {error && (
          <p className="notice error" role="alert">
            {error}
          </p>
        )}
        {!loaded && !error && <p className="list-edge">Loading replies…</p>}
        <div className="thread-replies" data-testid="thread-replies">
          {entries.map((e) => (
            <EntryRow key={e.key} entry={e} grouped={false} inThread />
          ))}
        </div>
        <div ref={bottom} />
      </div>
      {root && canPost(me, room) && (
        <Composer roomId={roomId} threadId={rootId} placeholder="Reply in thread" testId="thread-composer" />
      )}
    </aside>
  );
}
