/** Reaction bookkeeping on a message; idempotent per (emoji, user). */
import type { Message, Reaction } from '../types';

export function withReaction(message: Message, emoji: string, userId: number): Message {
  const existing = message.reactions.find((r) => r.emoji === emoji);
  if (existing?.users.includes(userId)) return message;
  const reactions: Reaction[] = existing
    ? message.reactions.map((r) =>
        r.emoji === emoji ? { ...r, count: r.count + 1, users: [...r.users, userId] } : r,
      )
    : [...message.reactions, { emoji, count: 1, users: [userId] }];
  return { ...message, reactions };
}

export function withoutReaction(message: Message, emoji: string, userId: number): Message {
  const existing = message.reactions.find((r) => r.emoji === emoji);
  if (!existing || !existing.users.includes(userId)) return message;
  const reactions = message.reactions
    .map((r) =>
      r.emoji === emoji ? { ...r, count: r.count - 1, users: r.users.filter((u) => u !== userId) } : r,
    )
    .filter((r) => r.count > 0);
  return { ...message, reactions };
}

export function hasReacted(message: Message, emoji: string, userId: number): boolean {
  return !!message.reactions.find((r) => r.emoji === emoji)?.users.includes(userId);
}
