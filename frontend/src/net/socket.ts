/**
 * The one WebSocket of the tab: connects, reconnects with exponential
 * backoff and jitter, keeps the line alive with pings, and hands frames to
 * its owner. It knows nothing of chat state: the owner sends `resume` from
 * onOpen and decides what frames mean.
 */
import type { ClientFrame, ServerFrame } from '../types';

/** The subset of the browser WebSocket this client uses (tests pass a fake). */
export interface SocketLike {
  readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type SocketFactory = (url: string) => SocketLike;

export interface CloseInfo {
  code: number;
  reason: string;
  /** False when the server said we are not signed in (4401) or stop() was called. */
  willRetry: boolean;
  delayMs: number;
}

export interface SocketOptions {
  url: string | (() => string);
  create?: SocketFactory;
  onOpen?: () => void;
  onFrame: (frame: ServerFrame) => void;
  onClose?: (info: CloseInfo) => void;
  baseDelayMs?: number;
  maxDelayMs?: number;
  pingEveryMs?: number;
  random?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

const OPEN = 1;
export const CLOSE_UNAUTHORIZED = 4401;
export const CLOSE_RATE_LIMITED = 4429;
/** Our own close code when the line went quiet past the heartbeat. */
export const CLOSE_HEARTBEAT = 4000;
const RATE_LIMIT_MIN_DELAY_MS = 10_000;

/**
 * Delay before reconnect attempt `attempt` (0-based): exponential up to a
 * cap, with "equal jitter" (half fixed, half random) so a server restart is
 * not met by every client at the same instant.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 20));
  return Math.round(cap / 2 + (random() * cap) / 2);
}

export function defaultSocketUrl(loc: Pick<Location, 'protocol' | 'host'> = window.location): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws/`;
}

export class ChatSocket {
  private ws: SocketLike | null = null;
  private attempt = 0;
  private stopped = true;
  private retryTimer: unknown = null;
  private pingTimer: unknown = null;
  private lastHeard = 0;
  private readonly o: Required<Omit<SocketOptions, 'onOpen' | 'onClose'>> &
    Pick<SocketOptions, 'onOpen' | 'onClose'>;

  constructor(options: SocketOptions) {
    const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    this.o = {
      create: (url) => new WebSocket(url) as unknown as SocketLike,
      baseDelayMs: 500,
      maxDelayMs: 30_000,
      pingEveryMs: 25_000,
      random: Math.random,
      setTimer: (fn, ms) => setTimeout(fn, ms),
      clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
      ...(given as Partial<SocketOptions> & Pick<SocketOptions, 'url' | 'onFrame'>),
    };
  }

  get isOpen(): boolean {
    return !!this.ws && this.ws.readyState === OPEN;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      detach(ws);
      ws.close(1000, 'bye');
    }
  }

  /** Skip the wait of a scheduled reconnect (e.g. the browser came back online). */
  reconnectNow(): void {
    if (this.stopped || this.ws) return;
    this.clearTimers();
    this.connect();
  }

  /** Send a frame if the socket is open; tell whether it went out. */
  send(frame: ClientFrame): boolean {
    if (!this.ws || this.ws.readyState !== OPEN) return false;
    try {
      this.ws.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  private connect(): void {
    const url = typeof this.o.url === 'function' ? this.o.url() : this.o.url;
    let ws: SocketLike;
    try {
      ws = this.o.create(url);
    } catch {
      this.scheduleRetry(1006, 'cannot connect');
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.lastHeard = Date.now();
      this.startHeartbeat();
      this.o.onOpen?.();
    };
    ws.onmessage = (ev) => {
      this.lastHeard = Date.now();
      if (typeof ev.data !== 'string') return;
      let frame: ServerFrame;
      try {
        frame = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (!frame || typeof frame !== 'object' || typeof frame.type !== 'string') return;
      if (frame.type === 'ready') this.attempt = 0;
      this.o.onFrame(frame);
    };
    ws.onerror = () => {
      /* onclose follows and decides */
    };
    ws.onclose = (ev) => this.handleClose(ws, ev.code, ev.reason);
  }

  private handleClose(ws: SocketLike, code: number, reason: string): void {
    if (ws !== this.ws) return;
    detach(ws);
    this.ws = null;
    this.clearTimers();
    if (this.stopped) return;
    if (code === CLOSE_UNAUTHORIZED) {
      this.stopped = true;
      this.o.onClose?.({ code, reason, willRetry: false, delayMs: 0 });
      return;
    }
    this.scheduleRetry(code, reason);
  }

  private scheduleRetry(code: number, reason: string): void {
    let delay = backoffDelay(this.attempt, this.o.baseDelayMs, this.o.maxDelayMs, this.o.random);
    if (code === CLOSE_RATE_LIMITED) delay = Math.max(delay, RATE_LIMIT_MIN_DELAY_MS);
    this.attempt += 1;
    this.o.onClose?.({ code, reason, willRetry: true, delayMs: delay });
    this.retryTimer = this.o.setTimer(() => {
      this.retryTimer = null;
      if (!this.stopped) this.connect();
    }, delay);
  }

  private startHeartbeat(): void {
    const beat = () => {
      const ws = this.ws;
      if (!ws) return;
      if (Date.now() - this.lastHeard > this.o.pingEveryMs * 2.5) {
        // The line went quiet: give up on this socket without waiting for the
        // browser's own (sometimes minutes-late) close event.
        ws.close(CLOSE_HEARTBEAT, 'heartbeat timeout');
        this.handleClose(ws, CLOSE_HEARTBEAT, 'heartbeat timeout');
        return;
      }
      this.send({ type: 'ping' });
      this.pingTimer = this.o.setTimer(beat, this.o.pingEveryMs);
    };
    this.pingTimer = this.o.setTimer(beat, this.o.pingEveryMs);
  }

  private clearTimers(): void {
    if (this.retryTimer != null) this.o.clearTimer(this.retryTimer);
    if (this.pingTimer != null) this.o.clearTimer(this.pingTimer);
    this.retryTimer = null;
    this.pingTimer = null;
  }
}

function detach(ws: SocketLike): void {
  ws.onopen = null;
  ws.onmessage = null;
  ws.onclose = null;
  ws.onerror = null;
}
