/** @mention suggestions: room members first, then the rest of the directory. */
import type { User } from '../types';

export interface Suggestion {
  key: string;
  label: string;
  detail: string;
  insert: string;
  /** A command's usage line. */
  usage?: string;
}

function matches(user: User, q: string): boolean {
  if (!q) return true;
  if (user.username.toLowerCase().startsWith(q)) return true;
  return (user.display_name || '')
    .toLowerCase()
    .split(/\s+/)
    .some((w) => w.startsWith(q));
}

export function mentionSuggestions(
  query: string,
  users: Record<number, User>,
  memberIds: number[] | undefined,
  meId: number | undefined,
  limit = 8,
): Suggestion[] {
  const q = query.toLowerCase();
  const members = new Set(memberIds ?? []);
  const candidates = Object.values(users).filter(
    (u) => u.id !== meId && u.is_active !== false && matches(u, q),
  );
  candidates.sort((a, b) => {
    const am = members.has(a.id) ? 0 : 1;
    const bm = members.has(b.id) ? 0 : 1;
    if (am !== bm) return am - bm;
    const ap = a.username.toLowerCase().startsWith(q) ? 0 : 1;
    const bp = b.username.toLowerCase().startsWith(q) ? 0 : 1;
    return ap - bp || a.username.localeCompare(b.username);
  });
  return candidates.slice(0, limit).map((u) => ({
    key: `u${u.id}`,
    label: `@${u.username}`,
    detail: [u.display_name && u.display_name !== u.username ? u.display_name : '', u.is_bot ? 'bot' : '']
      .filter(Boolean)
      .join(' · '),
    insert: `@${u.username} `,
  }));
}
