import { describe, expect, it } from 'vitest';
import { messageHash, messageLink, parseHash, roomHash } from './route';

describe('routes', () => {
  it('parses rooms and message links', () => {
    expect(parseHash('#/room/12')).toEqual({ roomId: 12, messageId: null });
    expect(parseHash('#/room/12/message/345')).toEqual({ roomId: 12, messageId: 345 });
    expect(parseHash('')).toEqual({ roomId: null, messageId: null });
    expect(parseHash('#/room/abc')).toEqual({ roomId: null, messageId: null });
  });

  it('round-trips', () => {
    expect(parseHash(roomHash(3))).toEqual({ roomId: 3, messageId: null });
    expect(parseHash(messageHash(3, 9))).toEqual({ roomId: 3, messageId: 9 });
    expect(messageLink('https://chat.example', 3, 9)).toBe('https://chat.example/#/room/3/message/9');
  });
});
