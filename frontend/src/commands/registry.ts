/**
 * Slash-command suggestions for the composer. Sources plug in here: the bot
 * catalogue (GET /api/v1/bots) gives `/botname` with its description, then,
 * once the bot name is typed, its commands with their usage; every bot user
 * of the directory is offered as `/botname` too (bots the catalogue does not
 * list, or a server without one).
 */
import type { BotInfo, User } from '../types';

export interface CommandSuggestion {
  /** What the list shows, e.g. "/deploy". */
  label: string;
  /** What replaces the typed token, e.g. "/deploy ". */
  insert: string;
  description: string;
  /** How to call it, e.g. "deploy <service> [--force]" (commands only). */
  usage?: string;
}

export interface CommandContext {
  /** Every user known to the client (directory and room members). */
  users: User[];
  /** The server's bot catalogue; null or missing while unknown. */
  bots?: BotInfo[] | null;
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

/**
 * The bot catalogue: `/dep` offers bots named dep…; `/deploy ro` offers the
 * deploy bot's commands named ro…, with their usage.
 */
export const botCatalogueSource: CommandSource = {
  id: 'bot-catalogue',
  suggest(query, ctx) {
    const bots = ctx.bots ?? [];
    const space = query.indexOf(' ');
    if (space < 0) {
      const q = query.toLowerCase();
      return bots
        .filter((b) => b.username.toLowerCase().startsWith(q))
        .sort((a, b) => a.username.localeCompare(b.username))
        .map((b) => ({
          label: `/${b.username}`,
          insert: `/${b.username} `,
          description: b.description || b.display_name || 'bot',
        }));
    }
    const name = query.slice(0, space).toLowerCase();
    const rest = query.slice(space + 1).toLowerCase();
    const bot = bots.find((b) => b.username.toLowerCase() === name);
    if (!bot) return [];
    return bot.commands
      .filter((c) => c.name.toLowerCase().startsWith(rest))
      .map((c) => ({
        label: `/${bot.username} ${c.name}`,
        insert: `/${bot.username} ${c.name} `,
        description: c.description ?? '',
        usage: c.usage || undefined,
      }));
  },
};

const sources: CommandSource[] = [botCatalogueSource, botUserSource];

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
