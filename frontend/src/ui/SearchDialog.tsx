import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { jumpHash } from '../app/route';
import { describeError } from '../net/api';
import { parseHighlight } from '../search/highlight';
import { applySuggestion, OPERATORS, searchSuggestions, wordAt } from '../search/query';
import type { SearchResult, SearchSort } from '../types';
import { useChat, useSession } from './context';
import { fullTime } from './format';
import { Modal } from './Modal';

/** Wait this long after the last keystroke before searching. */
export const SEARCH_DEBOUNCE_MS = 300;

/** A snippet as text runs: matched words in <mark>, the rest plain text (never HTML). */
export function Snippet({ highlight }: { highlight: string }) {
  const runs = useMemo(() => parseHighlight(highlight), [highlight]);
  return (
    <span className="search-snippet" data-testid="search-snippet">
      {runs.map((r, i) => (r.mark ? <mark key={i}>{r.text}</mark> : <span key={i}>{r.text}</span>))}
    </span>
  );
}

interface Results {
  query: string;
  sort: SearchSort;
  items: SearchResult[];
  next: string | null;
  hints: string[];
}

/**
 * Message search: a query box with operator hints and completion of rooms and
 * people, results with highlighted snippets; a result opens its room at the
 * message (a thread reply opens at its thread's root).
 */
export function SearchDialog({ onClose }: { onClose: () => void }) {
  const session = useSession();
  const rooms = useChat((s) => s.rooms);
  const users = useChat((s) => s.users);
  const [text, setText] = useState('');
  const [caret, setCaret] = useState(0);
  const [sort, setSort] = useState<SearchSort>('relevance');
  const [results, setResults] = useState<Results | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [active, setActive] = useState(-1);
  const [picked, setPicked] = useState(0);
  const [suggestOff, setSuggestOff] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const asked = useRef(0);

  const { word } = wordAt(text, caret);
  const suggestions = useMemo(
    () =>
      suggestOff === `${word}@${caret}`
        ? []
        : searchSuggestions(text, caret, Object.values(rooms), Object.values(users)),
    [text, caret, rooms, users, suggestOff, word],
  );
  const open = suggestions.length > 0;
  const pickedAt = Math.min(picked, Math.max(0, suggestions.length - 1));

  // People beyond those already known: ask the directory while from:@… is typed.
  const personQuery = /^-?from:@?(.*)$/i.exec(word)?.[1];
  useEffect(() => {
    if (personQuery == null) return;
    const t = setTimeout(() => session.searchUsers(personQuery).catch(() => undefined), 200);
    return () => clearTimeout(t);
  }, [personQuery, session]);

  async function run(query: string, order: SearchSort, cursor: string | null = null) {
    const q = query.trim();
    const ticket = ++asked.current;
    if (!q) {
      setResults(null);
      setError(null);
      setBusy(false);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const page = await session.api.search(q, { sort: order, cursor });
      if (ticket !== asked.current) return; // a newer search is under way
      const items = Array.isArray(page?.results) ? page.results.filter((r) => r?.message && r.room) : [];
      const hints = Array.isArray(page?.hints) ? page.hints.filter((h) => typeof h === 'string') : [];
      setResults((prev) =>
        cursor && prev
          ? { ...prev, items: [...prev.items, ...items], next: page.next ?? null }
          : { query: q, sort: order, items, next: page.next ?? null, hints },
      );
      if (!cursor) setActive(-1);
    } catch (e) {
      if (ticket === asked.current) setError(describeError(e));
    } finally {
      if (ticket === asked.current) setBusy(false);
    }
  }

  // Search as the query settles.
  useEffect(() => {
    const t = setTimeout(() => void run(text, sort), SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(t);
  }, [text, sort]);

  function edit(value: string, at: number) {
    setText(value);
    setCaret(at);
    setPicked(0);
  }

  function accept(insert: string) {
    const next = applySuggestion(text, caret, insert);
    edit(next.text, next.caret);
    requestAnimationFrame(() => {
      input.current?.focus();
      input.current?.setSelectionRange(next.caret, next.caret);
    });
  }

  function addOperator(insert: string) {
    const base = text && !/\s$/.test(text) ? `${text} ` : text;
    const value = base + insert;
    edit(value, value.length);
    requestAnimationFrame(() => {
      input.current?.focus();
      input.current?.setSelectionRange(value.length, value.length);
    });
  }

  async function openResult(r: SearchResult) {
    if (!session.state.rooms[r.room.id]) await session.ensureRoom(r.room.id).catch(() => undefined);
    window.location.hash = jumpHash({ ...r.message, room: r.room.id });
    onClose();
  }

  function onKeyDown(e: KeyboardEvent<HTMLInputElement>) {
    const items = results?.items ?? [];
    if (open) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const step = e.key === 'ArrowDown' ? 1 : -1;
        setPicked((pickedAt + step + suggestions.length) % suggestions.length);
        return;
      }
      if (e.key === 'Enter' || e.key === 'Tab') {
        e.preventDefault();
        accept(suggestions[pickedAt].insert);
        return;
      }
      if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        setSuggestOff(`${word}@${caret}`);
        return;
      }
    }
    if ((e.key === 'ArrowDown' || e.key === 'ArrowUp') && items.length) {
      e.preventDefault();
      const step = e.key === 'ArrowDown' ? 1 : -1;
      setActive((a) => (a < 0 ? (step > 0 ? 0 : items.length - 1) : (a + step + items.length) % items.length));
      return;
    }
    if (e.key === 'Enter') {
      e.preventDefault();
      if (active >= 0 && items[active]) void openResult(items[active]);
      else void run(text, sort);
    }
  }

  // Keep the active result in view while walking with the arrows.
  useEffect(() => {
    if (active < 0) return;
    document.getElementById(`search-result-${active}`)?.scrollIntoView?.({ block: 'nearest' });
  }, [active]);

  const listId = 'search-suggestions';
  const shown = results;
  return (
    <Modal title="Search messages" onClose={onClose} testId="search-dialog">
      <div className="search-box">
        <input
          ref={input}
          type="search"
          value={text}
          placeholder='Search: words, "a phrase", in:#room, from:@person …'
          aria-label="Search messages"
          role="combobox"
          aria-expanded={open}
          aria-controls={open ? listId : undefined}
          aria-autocomplete="list"
          aria-activedescendant={!open && active >= 0 ? `search-result-${active}` : undefined}
          autoComplete="off"
          spellCheck={false}
          onChange={(e) => edit(e.target.value, e.target.selectionStart ?? e.target.value.length)}
          onSelect={(e) => setCaret(e.currentTarget.selectionStart ?? 0)}
          onKeyDown={onKeyDown}
          data-testid="search-input"
        />
        <div className="search-sort" role="group" aria-label="Order">
          {(['relevance', 'recent'] as const).map((s) => (
            <button
              key={s}
              type="button"
              className={`chip${sort === s ? ' active' : ''}`}
              aria-pressed={sort === s}
              onClick={() => setSort(s)}
              data-testid={`search-sort-${s}`}
            >
              {s === 'relevance' ? 'Best match' : 'Newest'}
            </button>
          ))}
        </div>
        {open && (
          <ul className="autocomplete search-autocomplete" role="listbox" id={listId} data-testid="search-suggestions">
            {suggestions.map((s, i) => (
              <li
                key={s.key}
                role="option"
                aria-selected={i === pickedAt}
                className={i === pickedAt ? 'active' : ''}
                onMouseDown={(e) => {
                  e.preventDefault();
                  accept(s.insert);
                }}
                data-testid="search-suggestion"
                data-value={s.insert}
              >
                <span className="suggestion-label">{s.label}</span>
                {s.detail && <span className="suggestion-detail">{s.detail}</span>}
              </li>
            ))}
          </ul>
        )}
      </div>
      {!text.trim() && (
        <ul className="search-hints" data-testid="search-hints" aria-label="Search operators">
          {OPERATORS.map((o) => (
            <li key={o.label}>
              <button
                type="button"
                className="link-button"
                onClick={() => addOperator(o.insert)}
                disabled={!o.insert}
                data-testid="search-hint"
                data-operator={o.insert}
              >
                <code>{o.label}</code>
              </button>
              <span className="muted"> {o.description}</span>
            </li>
          ))}
          <li className="muted">Keys: Ctrl+K or / opens search · ↑↓ pick · Enter opens · Esc closes</li>
        </ul>
      )}
      {error && (
        <p className="form-error" role="alert" data-testid="search-error">
          {error}
        </p>
      )}
      {shown && text.trim() && (
        <>
          {shown.hints.length > 0 && (
            <div className="muted search-server-hint" data-testid="search-server-hints">
              {/* The server's own sentences (API.md, Search: hints), one per line. */}
              {shown.hints.map((h, i) => (
                <p key={i}>{h}</p>
              ))}
            </div>
          )}
          <p className="muted search-status" data-testid="search-status" aria-live="polite">
            {busy ? 'Searching…' : shown.items.length ? `${shown.items.length}${shown.next ? '+' : ''} results` : ''}
          </p>
          {shown.items.length === 0 && !busy ? (
            <p className="muted" data-testid="search-empty">
              Nothing found for “{shown.query}”.
            </p>
          ) : (
            <ul className="search-results" role="listbox" aria-label="Results" data-testid="search-results">
              {shown.items.map((r, i) => (
                <li key={`${r.message.id}`} role="option" aria-selected={i === active} id={`search-result-${i}`}>
                  <button
                    type="button"
                    className={`search-result${i === active ? ' active' : ''}`}
                    onClick={() => void openResult(r)}
                    onMouseEnter={() => setActive(i)}
                    data-testid="search-result"
                    data-message-id={r.message.id}
                    data-room-id={r.room.id}
                  >
                    <span className="search-result-head">
                      <span className="search-result-room">#{r.room.name || `room ${r.room.id}`}</span>
                      {r.room.joined === false && <span className="muted"> (not joined)</span>}
                      <span className="search-result-author">{r.message.author.display_name || r.message.author.username}</span>
                      {r.message.thread_id != null && <span className="muted">in a thread</span>}
                      <time className="muted" dateTime={r.message.created_at}>
                        {fullTime(r.message.created_at)}
                      </time>
                    </span>
                    <Snippet highlight={r.highlight ?? ''} />
                  </button>
                </li>
              ))}
            </ul>
          )}
          {shown.next && (
            <button
              type="button"
              className="link-button search-more"
              disabled={busy}
              onClick={() => void run(shown.query, shown.sort, shown.next)}
              data-testid="search-more"
            >
              More results
            </button>
          )}
        </>
      )}
    </Modal>
  );
}
