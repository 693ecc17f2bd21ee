/**
 * Hash routes: #/room/<id> and #/room/<id>/message/<msgid>, the admin area
 * #/admin/<tab>, and the invite link the server hands out, #/invite/<token>.
 * The server serves the page at "/", so hash routes need nothing from it.
 */
export interface Route {
  roomId: number | null;
  messageId: number | null;
  /** The admin area's tab (set only on #/admin routes). */
  admin?: AdminTab;
  /** The invite token of #/invite/<token> (set only there). */
  invite?: string;
}

export const ADMIN_TABS = ['users', 'rooms', 'bots', 'audit', 'settings'] as const;
export type AdminTab = (typeof ADMIN_TABS)[number];

export function parseHash(hash: string): Route {
  const admin = /^#?\/admin(?:\/([a-z]+))?\/?$/.exec(hash);
  if (admin) {
    const tab = (ADMIN_TABS as readonly string[]).includes(admin[1] ?? '') ? (admin[1] as AdminTab) : 'users';
    return { roomId: null, messageId: null, admin: tab };
  }
  const invite = /^#?\/invite\/([A-Za-z0-9_-]{1,200})\/?$/.exec(hash);
  if (invite) return { roomId: null, messageId: null, invite: invite[1] };
  const m = /^#?\/room\/(\d+)(?:\/message\/(\d+))?\/?$/.exec(hash);
  if (!m) return { roomId: null, messageId: null };
  return { roomId: Number(m[1]), messageId: m[2] ? Number(m[2]) : null };
}

export function adminHash(tab: AdminTab = 'users'): string {
  return `#/admin/${tab}`;
}

export function roomHash(roomId: number): string {
  return `#/room/${roomId}`;
}

export function messageHash(roomId: number, messageId: number): string {
  return `#/room/${roomId}/message/${messageId}`;
}

/**
 * Where "jump to message" goes: the message itself, or for a thread reply its
 * root (room history lists top-level messages only).
 */
export function jumpHash(message: { room: number; id: number; thread_id: number | null }): string {
  return messageHash(message.room, message.thread_id ?? message.id);
}

/** The shareable link to a message. */
export function messageLink(origin: string, roomId: number, messageId: number): string {
  return `${origin}/${messageHash(roomId, messageId)}`;
}
