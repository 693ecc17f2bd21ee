import { describe, expect, it } from 'vitest';
import { adminHash, messageHash, messageLink, parseHash, roomHash } from './route';

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

describe('admin and invite routes', () => {
  it('parses the admin tabs, unknown tabs fall back to users', () => {
    expect(parseHash('#/admin/audit').admin).toBe('audit');
    expect(parseHash('#/admin').admin).toBe('users');
    expect(parseHash('#/admin/nope').admin).toBe('users');
    expect(parseHash(adminHash('bots'))).toEqual({ roomId: null, messageId: null, admin: 'bots' });
    expect(parseHash('#/room/3').admin).toBeUndefined();
  });

  it('parses the invite link the server returns (/#/invite/<token>)', () => {
    expect(parseHash('#/invite/inv_AbC-9_x')).toEqual({ roomId: null, messageId: null, invite: 'inv_AbC-9_x' });
    expect(parseHash('#/invite/').invite).toBeUndefined();
    expect(parseHash('#/invite/a<b').invite).toBeUndefined();
  });
});
