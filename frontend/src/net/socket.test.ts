import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createFakeSocket, FakeSocket } from '../test/fakeSocket';
import type { ServerFrame } from '../types';
import { backoffDelay, ChatSocket, defaultSocketUrl, type CloseInfo } from './socket';

describe('backoffDelay', () => {
  it('doubles up to the cap, with half of it random', () => {
    expect(backoffDelay(0, 500, 30_000, () => 0)).toBe(250);
    expect(backoffDelay(0, 500, 30_000, () => 1)).toBe(500);
    expect(backoffDelay(3, 500, 30_000, () => 0.5)).toBe(3000);
    expect(backoffDelay(10, 500, 30_000, () => 1)).toBe(30_000);
    expect(backoffDelay(50, 500, 30_000, () => 0)).toBe(15_000);
  });
});

describe('defaultSocketUrl', () => {
  it('matches the page scheme', () => {
    expect(defaultSocketUrl({ protocol: 'https:', host: 'chat.example:8443' })).toBe('wss://chat.example:8443/ws/');
    expect(defaultSocketUrl({ protocol: 'http:', host: 'localhost:8010' })).toBe('ws://localhost:8010/ws/');
  });
});

describe('ChatSocket', () => {
  let frames: ServerFrame[];
  let closes: CloseInfo[];
  let opens: number;

  function make(random = () => 0.5) {
    return new ChatSocket({
      url: 'ws://test/ws/',
      create: createFakeSocket,
      random,
      onOpen: () => (opens += 1),
      onFrame: (f) => frames.push(f),
      onClose: (c) => closes.push(c),
    });
  }

  beforeEach(() => {
    vi.useFakeTimers();
    FakeSocket.reset();
    frames = [];
    closes = [];
    opens = 0;
  });
  afterEach(() => vi.useRealTimers());

  it('connects, reports open, passes frames and sends only while open', () => {
    const s = make();
    expect(s.send({ type: 'ping' })).toBe(false);
    s.start();
    expect(FakeSocket.last.url).toBe('ws://test/ws/');
    expect(s.send({ type: 'ping' })).toBe(false);
    FakeSocket.last.open();
    expect(opens).toBe(1);
    expect(s.send({ type: 'typing', room: 1 })).toBe(true);
    expect(FakeSocket.last.sent).toEqual([{ type: 'typing', room: 1 }]);
    FakeSocket.last.receive({ type: 'pong' });
    expect(frames).toEqual([{ type: 'pong' }]);
  });

  it('uses its defaults for options passed as undefined', () => {
    const s = new ChatSocket({ url: 'ws://x/', create: createFakeSocket, random: undefined, onFrame: () => undefined });
    s.start();
    FakeSocket.last.drop(1006);
    expect(FakeSocket.instances).toHaveLength(1);
    vi.advanceTimersByTime(30_000);
    expect(FakeSocket.instances).toHaveLength(2);
  });

  it('drops frames that are not JSON objects with a type', () => {
    const s = make();
    s.start();
    FakeSocket.last.open();
    FakeSocket.last.receiveRaw('not json');
    FakeSocket.last.receiveRaw('[1,2]');
    FakeSocket.last.receiveRaw('{"no":"type"}');
    expect(frames).toEqual([]);
  });

  it('reconnects with growing delays after failures', () => {
    const s = make(() => 1);
    s.start();
    FakeSocket.last.drop(1006);
    expect(closes[0]).toMatchObject({ code: 1006, willRetry: true, delayMs: 500 });
    vi.advanceTimersByTime(499);
    expect(FakeSocket.instances).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.instances).toHaveLength(2);
    FakeSocket.last.drop(1006);
    expect(closes[1].delayMs).toBe(1000);
    vi.advanceTimersByTime(1000);
    FakeSocket.last.drop(1006);
    expect(closes[2].delayMs).toBe(2000);
  });

  it('resets the backoff once the server says ready', () => {
    const s = make(() => 1);
    s.start();
    FakeSocket.last.drop(1006);
    vi.advanceTimersByTime(500);
    FakeSocket.last.open();
    FakeSocket.last.receive({ type: 'ready' });
    FakeSocket.last.drop(1012);
    expect(closes[1]).toMatchObject({ code: 1012, willRetry: true, delayMs: 500 });
  });

  it.each([4408, 1012, 1006, 1001])('reconnects after close code %i', (code) => {
    const s = make();
    s.start();
    FakeSocket.last.open();
    FakeSocket.last.drop(code);
    expect(closes[0].willRetry).toBe(true);
    vi.advanceTimersByTime(closes[0].delayMs);
    expect(FakeSocket.instances).toHaveLength(2);
  });

  it('does not reconnect after 4401', () => {
    const s = make();
    s.start();
    FakeSocket.last.open();
    FakeSocket.last.drop(4401);
    expect(closes).toEqual([{ code: 4401, reason: '', willRetry: false, delayMs: 0 }]);
    vi.advanceTimersByTime(120_000);
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it('waits at least ten seconds after 4429', () => {
    const s = make(() => 0);
    s.start();
    FakeSocket.last.open();
    FakeSocket.last.drop(4429);
    expect(closes[0].delayMs).toBe(10_000);
  });

  it('stops for good on stop()', () => {
    const s = make();
    s.start();
    FakeSocket.last.open();
    const ws = FakeSocket.last;
    s.stop();
    expect(ws.closedWith).toBe(1000);
    ws.drop(1006);
    vi.advanceTimersByTime(120_000);
    expect(FakeSocket.instances).toHaveLength(1);
    expect(closes).toEqual([]);
  });

  it('reconnectNow skips the wait', () => {
    const s = make();
    s.start();
    FakeSocket.last.drop(1006);
    s.reconnectNow();
    expect(FakeSocket.instances).toHaveLength(2);
  });

  it('pings and gives up on a socket that went quiet', () => {
    const s = make();
    s.start();
    FakeSocket.last.open();
    vi.advanceTimersByTime(25_000);
    expect(FakeSocket.last.sentOfType('ping')).toHaveLength(1);
    vi.advanceTimersByTime(25_000);
    vi.advanceTimersByTime(25_000);
    const first = FakeSocket.instances[0];
    expect(first.closedWith).toBe(4000);
    expect(closes[0]).toMatchObject({ code: 4000, willRetry: true });
  });

  it('keeps a socket that answers', () => {
    const s = make();
    s.start();
    FakeSocket.last.open();
    for (let i = 0; i < 6; i += 1) {
      vi.advanceTimersByTime(25_000);
      FakeSocket.last.receive({ type: 'pong' });
    }
    expect(FakeSocket.instances).toHaveLength(1);
    expect(closes).toEqual([]);
  });
});
