/**
 * The queue of messages I sent that the server has not acknowledged. Each
 * carries a client-generated `client_msg_id`, so sending it again after a
 * reconnect is safe: the server answers with the original message.
 */
import type { ChatState, PendingSend, SendStatus } from './model';

export function createPending(args: {
  clientMsgId: string;
  room: number;
  body: string;
  threadId?: number | null;
  now: Date;
}): PendingSend {
  return {
    clientMsgId: args.clientMsgId,
    room: args.room,
    body: args.body,
    threadId: args.threadId ?? null,
    createdAt: args.now.toISOString(),
    status: 'queued',
  };
}

function setStatus(
  pending: PendingSend[],
  ids: ReadonlySet<string>,
  status: SendStatus,
  error?: string,
): PendingSend[] {
  return pending.map((p) => (ids.has(p.clientMsgId) ? { ...p, status, error } : p));
}

export function markSending(state: ChatState, clientMsgIds: string[]): ChatState {
  return { ...state, pending: setStatus(state.pending, new Set(clientMsgIds), 'sending') };
}

export function markFailed(state: ChatState, clientMsgId: string, error: string): ChatState {
  return { ...state, pending: setStatus(state.pending, new Set([clientMsgId]), 'failed', error) };
}

export function markQueued(state: ChatState, clientMsgId: string): ChatState {
  return { ...state, pending: setStatus(state.pending, new Set([clientMsgId]), 'queued') };
}

/** Sends in flight when the socket dropped go back to the queue: their ack may be lost. */
export function requeueInFlight(state: ChatState): ChatState {
  if (!state.pending.some((p) => p.status === 'sending')) return state;
  return {
    ...state,
    pending: state.pending.map((p) => (p.status === 'sending' ? { ...p, status: 'queued' } : p)),
  };
}

export function removePending(state: ChatState, clientMsgId: string | null | undefined): ChatState {
  if (!clientMsgId || !state.pending.some((p) => p.clientMsgId === clientMsgId)) return state;
  return { ...state, pending: state.pending.filter((p) => p.clientMsgId !== clientMsgId) };
}

/** The sends waiting for a connection, oldest first. */
export function queuedSends(state: ChatState): PendingSend[] {
  return state.pending.filter((p) => p.status === 'queued');
}
