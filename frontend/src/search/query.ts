/**
 * The search box's help: the operators the server understands (API.md,
 * Search; issue 5) and completion of `in:#room` and `from:@person` while
 * they are typed. Pure functions of the text, the caret and what the client
 * knows, so they are tested without a browser.
 */
import type { Room, User } from '../types';

export interface OperatorHint {
  /** What clicking the hint inserts, e.g. "in:#". */
  insert: string;
  /** How it reads in the list, e.g. "in:#room". */
  label: string;
  description: string;
}

export const OPERATORS: OperatorHint[] = [
  { insert: 'in:#', label: 'in:#room', description: 'in one room' },
  { insert: 'from:@', label: 'from:@person', description: 'written by someone (bots too)' },
  { insert: 'before:', label: 'before:YYYY-MM-DD', description: 'written before a day' },
  { insert: 'after:', label: 'after:YYYY-MM-DD', description: 'written after a day' },
  { insert: 'on:', label: 'on:YYYY-MM-DD', description: 'written on a day' },
  { insert: 'has:link', label: 'has:link', description: 'with a link' },
  { insert: 'has:code', label: 'has:code', description: 'with code' },
  { insert: 'has:reaction', label: 'has:reaction', description: 'with a reaction' },
  { insert: 'is:thread', label: 'is:thread', description: 'in a thread' },
  { insert: 'is:mentioned', label: 'is:mentioned', description: 'mentioning me' },
  { insert: '"', label: '"exact phrase"', description: 'these words in this order' },
  { insert: '-', label: '-word', description: 'leave out matches (also -from:@x …)' },
  { insert: '', label: 'deplo*', description: 'words starting with …' },
];

export interface SearchSuggestion {
  key: string;
  /** What the list shows. */
  label: string;
  detail: string;
  /** The operator text that replaces the word being typed (a space follows). */
  insert: string;
}

/** The word under the caret, with where it starts and ends. */
export function wordAt(text: string, caret: number): { word: string; start: number; end: number } {
  let start = caret;
  while (start > 0 && !/\s/.test(text[start - 1])) start -= 1;
  let end = caret;
  while (end < text.length && !/\s/.test(text[end])) end += 1;
  return { word: text.slice(start, caret), start, end };
}

function roomLabel(room: Room): string {
  return room.name || `room ${room.id}`;
}

/**
 * Suggestions for the word being typed: rooms after `in:#` (or `in:`), people
 * after `from:@` (or `from:`), each also after a leading `-`; operators whose
 * name starts with the word (two letters at least, so plain words stay quiet).
 */
export function searchSuggestions(
  text: string,
  caret: number,
  rooms: Room[],
  users: User[],
  limit = 8,
): SearchSuggestion[] {
  const { word } = wordAt(text, caret);
  const neg = word.startsWith('-') ? '-' : '';
  const w = word.slice(neg.length);
  const lower = w.toLowerCase();
  const inRoom = /^in:#?(.*)$/i.exec(w);
  if (inRoom) {
    const q = inRoom[1].toLowerCase();
    return rooms
      .filter((r) => r.visibility !== 'direct' && !!r.name && r.name.toLowerCase().includes(q))
      .sort((a, b) => {
        const ap = a.name.toLowerCase().startsWith(q) ? 0 : 1;
        const bp = b.name.toLowerCase().startsWith(q) ? 0 : 1;
        return ap - bp || Number(!a.joined) - Number(!b.joined) || a.name.localeCompare(b.name);
      })
      .slice(0, limit)
      .map((r) => ({
        key: `r${r.id}`,
        label: `#${roomLabel(r)}`,
        detail: [r.visibility === 'private' ? 'private' : '', r.joined ? '' : 'not joined'].filter(Boolean).join(' · '),
        insert: `${neg}in:#${r.name}`,
      }));
  }
  const from = /^from:@?(.*)$/i.exec(w);
  if (from) {
    const q = from[1].toLowerCase();
    return users
      .filter(
        (u) =>
          u.username.toLowerCase().startsWith(q) ||
          (u.display_name || '').toLowerCase().split(/\s+/).some((part) => part.startsWith(q)),
      )
      .sort((a, b) => {
        const ap = a.username.toLowerCase().startsWith(q) ? 0 : 1;
        const bp = b.username.toLowerCase().startsWith(q) ? 0 : 1;
        return ap - bp || a.username.localeCompare(b.username);
      })
      .slice(0, limit)
      .map((u) => ({
        key: `u${u.id}`,
        label: `@${u.username}`,
        detail: [u.display_name && u.display_name !== u.username ? u.display_name : '', u.is_bot ? 'bot' : '']
          .filter(Boolean)
          .join(' · '),
        insert: `${neg}from:@${u.username}`,
      }));
  }
  if (lower.length < 2 || lower.includes(':')) return [];
  return OPERATORS.filter((o) => o.insert.length > 1 && o.insert.startsWith(lower) && o.insert !== lower)
    .slice(0, limit)
    .map((o) => ({ key: `o${o.label}`, label: o.label, detail: o.description, insert: `${neg}${o.insert}` }));
}

/** Put `insert` in place of the word under the caret; a space follows unless it is an open operator. */
export function applySuggestion(text: string, caret: number, insert: string): { text: string; caret: number } {
  const { start, end } = wordAt(text, caret);
  const open = /[:#@"-]$/.test(insert);
  const piece = open ? insert : `${insert} `;
  const after = text.slice(end).replace(/^ /, '');
  return { text: text.slice(0, start) + piece + after, caret: start + piece.length };
}
