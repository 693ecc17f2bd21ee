/**
 * The administration calls (docs/api.md "Site administration", "Webhooks",
 * the bot doors). Kept out of net/api.ts so they load with the admin area,
 * not with every page.
 */
import type { Api } from '../net/api';
import type { BotInfo, SiteRole, User } from '../types';

export interface AdminUser extends User {
  role: SiteRole;
  is_active: boolean;
  last_login: string | null;
  date_joined: string | null;
}

export interface Invite {
  id: number;
  role: SiteRole;
  note: string;
  state: 'open' | 'used' | 'expired' | 'revoked';
  created_at: string;
  expires_at: string;
  used_at: string | null;
  used_by: number | null;
  /** Only in the answer that created it. */
  token?: string;
  /** `/#/invite/<token>`, only in the answer that created it. */
  path?: string;
}

export interface AdminRoom {
  id: number;
  name: string;
  topic: string;
  visibility: 'public' | 'private';
  archived: boolean;
  member_count: number;
  joined: boolean;
  allow_bots?: boolean;
  posting_policy?: string;
  retention_days?: number | null;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: number | null;
  actor_username: string | null;
  action: string;
  target: string;
  room: number | null;
  ip: string | null;
  detail: unknown;
}

export interface AuditFilters {
  actor?: string;
  action?: string;
  room?: string;
  since?: string;
  until?: string;
  q?: string;
}

export interface AdminBot extends BotInfo {
  paused: boolean;
}

export interface Webhook {
  id: number;
  room: number;
  name: string;
  kind: 'incoming' | 'outgoing' | 'command';
  created_at: string;
  token_hint: string;
  url: string | null;
  /** Only in the answer that created it. */
  token?: string;
}

export interface Delivery {
  id: number;
  direction: 'in' | 'out';
  format: string;
  status: string;
  error: string;
  message_ids: number[];
  duplicates: number;
  replays: number;
  created_at: string;
  body: string;
}

/** An API token of an account (GET /admin/users/{id}/tokens); never its value. */
export interface AccountToken {
  id: number;
  name: string;
  created_at: string;
  last_used_at: string | null;
  /** Only in the answer that created it. */
  token?: string;
}

/** One typed parameter of a runbook action (docs/api.md, runbook-actions). */
export interface RunbookParam {
  type?: 'str' | 'int' | 'choice';
  choices?: string[];
  pattern?: string;
  min?: number;
  max?: number;
  required?: boolean;
  default?: string | number;
}

export interface RunbookAction {
  id: number;
  name: string;
  description: string;
  argv: string[];
  params: Record<string, RunbookParam>;
  cwd: string;
  env: Record<string, string>;
  timeout_seconds: number;
  run_policy: string[];
  needs_approval: boolean;
  enabled: boolean;
  created_at?: string;
}

export interface Rotation {
  id: number;
  name: string;
  period: 'daily' | 'weekly';
  handoff: string;
  tz: string;
  starts_on: string;
  escalate_minutes: number;
  room: number | null;
  /** Read: who, in order; write: their ids. */
  members: { id: number; username: string }[];
  on_call: { id: number; username: string; until: string; override: boolean } | null;
  created_at?: string;
}

export interface StatusEndpoint {
  id: number;
  name: string;
  url: string;
  expected_status: number;
  timeout_seconds: number;
  room: number | null;
  failures_before_down: number;
  enabled: boolean;
  up: boolean | null;
  failures: number;
  last_status: number | null;
  last_latency_ms: number | null;
  last_error: string;
  last_checked_at: string | null;
}

export interface HookToken {
  id: number;
  bot: string;
  token_hint: string;
  created_at: string;
  /** Only in the answer that created it. */
  token?: string;
  url?: string;
}

export type BotDataKind = 'runbook-actions' | 'rotations' | 'status-endpoints' | 'hook-tokens';

export interface SiteSettings {
  retention_days: number | null;
  retention_last_run: string | null;
}

export interface CursorPage<T> {
  results: T[];
  next: number | string | null;
}

export interface UserFilters {
  q?: string;
  role?: string;
  active?: '' | 'true' | 'false';
  bot?: '' | 'true' | 'false';
  cursor?: number | string | null;
}

/** The API turns an ISO time without zone (a datetime-local field) into one with it. */
export function withZone(local: string | undefined): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** The audit filters as query parameters (times sent in UTC, empty ones left out). */
export function auditParams(f: AuditFilters): Record<string, string | undefined> {
  return {
    actor: f.actor?.trim() || undefined,
    action: f.action?.trim() || undefined,
    room: f.room?.trim() || undefined,
    since: withZone(f.since),
    until: withZone(f.until),
    q: f.q?.trim() || undefined,
  };
}

/** The download link of the audit log under these filters. */
export function auditExportUrl(base: string, f: AuditFilters, format: 'csv' | 'json', query: Api['query']): string {
  return `${base}/admin/audit/export${query({ format, ...auditParams(f) })}`;
}

/** Roles this admin may hand out: only owners grant or take away admin and owner. */
export function grantableRoles(me: Pick<User, 'role'> | null, current?: SiteRole): SiteRole[] {
  if (me?.role === 'owner') return ['owner', 'admin', 'member', 'guest'];
  const all: SiteRole[] = ['member', 'guest'];
  return current && !all.includes(current) ? [current, ...all] : all;
}

export function adminApi(api: Api) {
  const r = api.request;
  const q = api.query;
  return {
    users: (f: UserFilters) =>
      r<CursorPage<AdminUser>>('GET', `/admin/users${q({ q: f.q, role: f.role, active: f.active, bot: f.bot, cursor: f.cursor ?? undefined })}`),
    createUser: (data: { username: string; password?: string; display_name?: string; role?: SiteRole; is_bot?: boolean }) =>
      r<AdminUser>('POST', '/users', data),
    updateUser: (id: number, changes: { role?: SiteRole; is_active?: boolean }) =>
      r<AdminUser>('PATCH', `/users/${id}`, changes),
    invites: () => r<CursorPage<Invite>>('GET', '/admin/invites'),
    createInvite: (data: { role: SiteRole; expires_in_hours: number; note?: string }) =>
      r<Invite>('POST', '/admin/invites', data),
    revokeInvite: (id: number) => r<unknown>('DELETE', `/admin/invites/${id}`),
    rooms: (f: { q?: string; visibility?: string; archived?: string; cursor?: number | string | null }) =>
      r<CursorPage<AdminRoom>>('GET', `/admin/rooms${q({ q: f.q, visibility: f.visibility, archived: f.archived, cursor: f.cursor ?? undefined })}`),
    joinRoom: (id: number) => r<unknown>('POST', `/admin/rooms/${id}/join`, {}),
    audit: (f: AuditFilters, cursor?: number | string | null) =>
      r<CursorPage<AuditEntry>>('GET', `/admin/audit${q({ ...auditParams(f), cursor: cursor ?? undefined })}`),
    settings: () => r<SiteSettings>('GET', '/admin/settings'),
    updateSettings: (changes: { retention_days: number | null }) => r<SiteSettings>('PATCH', '/admin/settings', changes),
    bots: () => r<CursorPage<AdminBot>>('GET', '/bots'),
    setBotPaused: (id: number, paused: boolean) => r<AdminBot>('PATCH', `/bots/${id}`, { paused }),
    roomBots: (roomId: number) => r<CursorPage<AdminBot>>('GET', `/rooms/${roomId}/bots`),
    enableBot: (roomId: number, botId: number) => r<unknown>('PUT', `/rooms/${roomId}/bots/${botId}`),
    disableBot: (roomId: number, botId: number) => r<unknown>('DELETE', `/rooms/${roomId}/bots/${botId}`),
    webhooks: (roomId: number) => r<CursorPage<Webhook>>('GET', `/rooms/${roomId}/webhooks`),
    createWebhook: (roomId: number, data: { name: string; kind: 'incoming' }) =>
      r<Webhook>('POST', `/rooms/${roomId}/webhooks`, data),
    revokeWebhook: (roomId: number, hookId: number) => r<unknown>('DELETE', `/rooms/${roomId}/webhooks/${hookId}`),
    deliveries: (roomId: number, hookId: number) =>
      r<CursorPage<Delivery>>('GET', `/rooms/${roomId}/webhooks/${hookId}/deliveries`),
    replay: (roomId: number, hookId: number, deliveryId: number) =>
      r<Delivery>('POST', `/rooms/${roomId}/webhooks/${hookId}/deliveries/${deliveryId}/replay`),
    tokens: (userId: number) => r<CursorPage<AccountToken>>('GET', `/admin/users/${userId}/tokens`),
    createToken: (userId: number, name: string) => r<AccountToken>('POST', `/admin/users/${userId}/tokens`, { name }),
    revokeToken: (userId: number, tokenId: number) => r<unknown>('DELETE', `/admin/users/${userId}/tokens/${tokenId}`),
    /** The built-in bots' admin data: one collection door and one item door per kind. */
    botData: <T>(kind: BotDataKind) => ({
      list: () => r<CursorPage<T>>('GET', `/admin/bots/${kind}`),
      create: (data: Record<string, unknown>) => r<T>('POST', `/admin/bots/${kind}`, data),
      update: (id: number, changes: Record<string, unknown>) => r<T>('PATCH', `/admin/bots/${kind}/${id}`, changes),
      remove: (id: number) => r<unknown>('DELETE', `/admin/bots/${kind}/${id}`),
    }),
  };
}

export type AdminApi = ReturnType<typeof adminApi>;
