import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { suggestCommands } from '../commands/registry';
import { completeToken, tokenAt, type Token } from './autocomplete';
import { useChat, useSession } from './context';
import { mentionSuggestions, type Suggestion } from './mentions';

/** Bodies longer than this are refused by the server (413). */
export const MAX_BODY = 10_000;

/** Unsent text per room and thread, kept while switching rooms. */
const drafts = new Map<string, string>();

interface Props {
  roomId: number;
  threadId: number | null;
  placeholder: string;
  testId: string;
  autoFocus?: boolean;
}

export function Composer({ roomId, threadId, placeholder, testId, autoFocus = true }: Props) {
  const session = useSession();
  const draftKey = `${roomId}:${threadId ?? ''}`;
  const [text, setText] = useState(() => drafts.get(draftKey) ?? '');
  const [token, setToken] = useState<Token | null>(null);
  const [selected, setSelected] = useState(0);
  // The token whose suggestions the user closed with Escape (by its start).
  const [dismissed, setDismissed] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLTextAreaElement>(null);
  const users = useChat((s) => s.users);
  const memberIds = useChat((s) => s.roomMembers[roomId]);
  const me = useChat((s) => s.me);
  const bots = useChat((s) => s.bots);

  useEffect(() => {
    if (text) drafts.set(draftKey, text);
    else drafts.delete(draftKey);
  }, [draftKey, text]);

  const mentionQuery = token?.kind === 'mention' ? token.query : null;
  useEffect(() => {
    if (mentionQuery == null) return;
    if (!memberIds) session.loadMembers(roomId).catch(() => undefined);
    const t = setTimeout(() => session.searchUsers(mentionQuery).catch(() => undefined), 200);
    return () => clearTimeout(t);
  }, [mentionQuery, memberIds, session, roomId]);

  const typingCommand = token?.kind === 'command';
  useEffect(() => {
    if (typingCommand) session.loadBots().catch(() => undefined);
  }, [typingCommand, session]);

  const suggestions: Suggestion[] = useMemo(() => {
    if (!token || token.start === dismissed) return [];
    if (token.kind === 'mention') return mentionSuggestions(token.query, users, memberIds, me?.id);
    return suggestCommands(token.query, { users: Object.values(users), bots }).map((c) => ({
      key: c.label,
      label: c.label,
      detail: c.description,
      usage: c.usage,
      insert: c.insert,
    }));
  }, [token, dismissed, users, memberIds, me, bots]);
  const open = suggestions.length > 0;
  const active = Math.min(selected, Math.max(0, suggestions.length - 1));

  function track(value: string, caret: number) {
    const next = tokenAt(value, caret);
    if (next?.start !== token?.start || next?.query !== token?.query) setSelected(0);
    setDismissed((d) => (next != null && next.start === d ? d : null));
    setToken(next);
  }

  function accept(s: Suggestion) {
    if (!token) return;
    const next = completeToken(text, token, s.insert);
    setText(next.text);
    setToken(null);
    requestAnimationFrame(() => {
      input.current?.focus();
      input.current?.setSelectionRange(next.caret, next.caret);
    });
  }

  function submit() {
    const body = text.trim();
    if (!body) return;
    if (body.length > MAX_BODY) {
      setError(`That message is too long (${body.length.toLocaleString()} of at most ${MAX_BODY.toLocaleString()} characters).`);
      return;
    }
    session.send(roomId, body, threadId);
    setText('');
    setToken(null);
    setError(null);
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.nativeEvent.isComposing) return;
    if (open) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const step = e.key === 'ArrowDown' ? 1 : -1;
        setSelected((active + step + suggestions.length) % suggestions.length);
        return;
      }
      if (e.key === 'Enter' || e.key === 'Tab') {
        e.preventDefault();
        accept(suggestions[active]);
        return;
      }
      if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        setDismissed(token?.start ?? null);
        return;
      }
    }
    if (e.key === 'Enter' && !e.shiftKey && !e.altKey) {
      e.preventDefault();
      submit();
    }
  }

  const listId = `${testId}-suggestions`;
  return (
    <form
      className="composer"
      data-testid={testId}
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      {open && (
        <ul className="autocomplete" role="listbox" id={listId} data-testid="autocomplete">
          {suggestions.map((s, i) => (
            <li
              key={s.key}
              role="option"
              aria-selected={i === active}
              className={i === active ? 'active' : ''}
              onMouseDown={(e) => {
                e.preventDefault();
                accept(s);
              }}
              data-testid="autocomplete-item"
              data-value={s.label}
            >
              <span className="suggestion-label">{s.label}</span>
              {s.usage && (
                <code className="suggestion-usage" data-testid="autocomplete-usage">
                  {s.usage}
                </code>
              )}
              {s.detail && <span className="suggestion-detail">{s.detail}</span>}
            </li>
          ))}
        </ul>
      )}
      {error && (
        <p className="form-error" role="alert" data-testid="composer-error">
          {error}
        </p>
      )}
      <div className="composer-row">
        <textarea
          ref={input}
          value={text}
          rows={1}
          autoFocus={autoFocus}
          placeholder={placeholder}
          aria-label={placeholder}
          role="combobox"
          aria-expanded={open}
          aria-controls={open ? listId : undefined}
          aria-autocomplete="list"
          onChange={(e) => {
            setText(e.target.value);
            track(e.target.value, e.target.selectionStart ?? e.target.value.length);
            if (e.target.value.trim()) session.notifyTyping(roomId);
          }}
          onSelect={(e) => {
            const t = e.currentTarget;
            if (t.selectionStart === t.selectionEnd) track(t.value, t.selectionStart ?? 0);
          }}
          onBlur={() => setToken(null)}
          onKeyDown={onKeyDown}
          data-testid="composer-input"
        />
        <button type="submit" className="send-button" disabled={!text.trim()} data-testid="composer-send">
          Send
        </button>
      </div>
      <div className="composer-hint">Enter to send · Shift+Enter for a new line · @ to mention · / for commands</div>
    </form>
  );
}
