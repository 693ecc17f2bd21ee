import { useState } from 'react';
import { describeError } from '../net/api';
import type { Message } from '../types';
import { useChat, useSession } from './context';
import { REACTION_EMOJI } from './emoji';
import { Icon } from './icons';
import { toast } from './toast';

export function useToggleReaction() {
  const session = useSession();
  return (message: Message, emoji: string) =>
    session.toggleReaction(message, emoji).catch((e) => toast(`Reaction failed: ${describeError(e)}`));
}

/** The reactions under a message: counts, who reacted (tooltip), mine pressed. */
export function Reactions({ message, disabled }: { message: Message; disabled?: boolean }) {
  const me = useChat((s) => s.me);
  const users = useChat((s) => s.users);
  const toggle = useToggleReaction();
  if (!message.reactions.length) return null;
  return (
    <div className="reactions" data-testid="reactions">
      {message.reactions.map((r) => {
        const mine = !!me && r.users.includes(me.id);
        const who = r.users.map((id) => users[id]?.display_name || users[id]?.username || `user ${id}`).join(', ');
        return (
          <button
            key={r.emoji}
            type="button"
            className={`reaction${mine ? ' mine' : ''}`}
            aria-pressed={mine}
            title={who ? `${who} reacted with ${r.emoji}` : r.emoji}
            disabled={disabled}
            onClick={() => void toggle(message, r.emoji)}
            data-testid="reaction"
            data-emoji={r.emoji}
            data-count={r.count}
          >
            <span className="reaction-emoji">{r.emoji}</span> <span className="reaction-count">{r.count}</span>
          </button>
        );
      })}
    </div>
  );
}

/** A button that opens the small emoji picker. */
export function ReactionPicker({ message }: { message: Message }) {
  const [open, setOpen] = useState(false);
  const toggle = useToggleReaction();
  return (
    <span className="picker-anchor">
      <button
        type="button"
        className="icon-button"
        title="Add reaction"
        aria-label="Add reaction"
        aria-expanded={open}
        onClick={() => setOpen((o) => !o)}
        data-testid="add-reaction"
      ><Icon name="smile" /></button>
      {open && (
        <div
          className="emoji-picker"
          role="menu"
          data-testid="emoji-picker"
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              e.stopPropagation();
              setOpen(false);
            }
          }}
        >
          {REACTION_EMOJI.map((emoji) => (
            <button
              key={emoji}
              type="button"
              role="menuitem"
              className="emoji-option"
              onClick={() => {
                setOpen(false);
                void toggle(message, emoji);
              }}
              data-testid="emoji-option"
              data-emoji={emoji}
            >
              {emoji}
            </button>
          ))}
        </div>
      )}
    </span>
  );
}
