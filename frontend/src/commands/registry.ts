/**
 * Slash-command suggestions for the composer. Sources plug in here: today
 * one lists every bot as `/botname`; a source built on a bot-command list
 * (e.g. from the server's bot catalogue) can be registered beside it later.
 */
import type { User } from '../types';

export interface CommandSuggestion {
  /** What the list shows, e.g. "/deploy". */
  label: string;
  /** What replaces the typed token, e.g. "/deploy ". */
  insert: string;
  description: string;
}

export interface CommandContext {
  /** Every user known to the client (directory and room members). */
  users: User[];
}

export interface CommandSource {
  id: string;
  suggest(query: string, ctx: CommandContext): CommandSuggestion[];
}

/** Every bot user as `/botname`. */
export const botUserSource: CommandSource = {
  id: 'bot-users',
  suggest(query, ctx) {
    const q = query.toLowerCase();
    return ctx.users
      .filter((u) => u.is_bot && u.is_active !== false && u.username.toLowerCase().startsWith(q))
      .sort((a, b) => a.username.localeCompare(b.username))
      .map((u) => ({
        label: `/${u.username}`,
        insert: `/${u.username} `,
        description: u.display_name && u.display_name !== u.username ? u.display_name : 'bot',
      }));
  },
};

const sources: CommandSource[] = [botUserSource];

export function registerCommandSource(source: CommandSource): () => void {
  const i = sources.findIndex((s) => s.id === source.id);
  if (i >= 0) sources.splice(i, 1, source);
  else sources.push(source);
  return () => {
    const at = sources.indexOf(source);
    if (at >= 0) sources.splice(at, 1);
  };
}

/** Suggestions from every source, first one per label wins. */
export function suggestCommands(query: string, ctx: CommandContext, limit = 8): CommandSuggestion[] {
  const seen = new Set<string>();
  const out: CommandSuggestion[] = [];
  for (const source of sources) {
    for (const s of source.suggest(query, ctx)) {
      if (seen.has(s.label)) continue;
      seen.add(s.label);
      out.push(s);
      if (out.length >= limit) return out;
    }
  }
  return out;
}
