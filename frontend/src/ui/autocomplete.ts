/** Find the @mention or /command being typed at the caret, and complete it. */

export interface Token {
  kind: 'mention' | 'command';
  /** Text after the @ or /. */
  query: string;
  start: number;
  end: number;
}

/**
 * The token under the caret: `@name` anywhere (after a space or at the
 * start), `/name` only as the first word of the message, and `/name cmd`
 * (a bot's command, query "name cmd") while the second word is typed.
 */
export function tokenAt(text: string, caret: number): Token | null {
  const head = text.slice(0, caret);
  if (/^\/[\w.-]+ [\w.-]*$/.test(head)) return { kind: 'command', query: head.slice(1), start: 0, end: caret };
  let start = caret;
  while (start > 0 && !/\s/.test(text[start - 1])) start -= 1;
  const word = text.slice(start, caret);
  if (/^@[\w.-]*$/.test(word)) return { kind: 'mention', query: word.slice(1), start, end: caret };
  if (start === 0 && /^\/[\w.-]*$/.test(word)) return { kind: 'command', query: word.slice(1), start, end: caret };
  return null;
}

/** Replace the token (and the rest of its word) with `insert` plus one space. */
export function completeToken(text: string, token: Token, insert: string): { text: string; caret: number } {
  const insertion = insert.endsWith(' ') ? insert : `${insert} `;
  const after = text.slice(token.end).replace(/^\S*/, '').replace(/^ /, '');
  return { text: text.slice(0, token.start) + insertion + after, caret: token.start + insertion.length };
}
