/**
 * Hash routes: #/room/<id> and #/room/<id>/message/<msgid>. The server
 * serves the page at "/", so hash routes need nothing from it.
 */
export interface Route {
  roomId: number | null;
  messageId: number | null;
}

export function parseHash(hash: string): Route {
  const m = /^#?\/room\/(\d+)(?:\/message\/(\d+))?\/?$/.exec(hash);
  if (!m) return { roomId: null, messageId: null };
  return { roomId: Number(m[1]), messageId: m[2] ? Number(m[2]) : null };
}

export function roomHash(roomId: number): string {
  return `#/room/${roomId}`;
}

export function messageHash(roomId: number, messageId: number): string {
  return `#/room/${roomId}/message/${messageId}`;
}

/** The shareable link to a message. */
export function messageLink(origin: string, roomId: number, messageId: number): string {
  return `${origin}/${messageHash(roomId, messageId)}`;
}
