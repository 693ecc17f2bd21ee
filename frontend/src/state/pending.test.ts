import { describe, expect, it } from 'vitest';
import { applyAll, authoredBy, frame, makeMessage, ME, newMessage, startedState } from '../test/fixtures';
import type { ChatState } from './model';
import { createPending, queuedSends } from './pending';
import { reduce } from './reducer';
import { roomEntries } from './selectors';

const ROOM = 10;

function queue(s: ChatState, clientMsgId: string, body = 'hi', threadId: number | null = null): ChatState {
  const pending = createPending({ clientMsgId, room: ROOM, body, threadId, now: new Date('2026-01-05T10:00:00Z') });
  return reduce(s, { type: 'send/queued', pending });
}

function entriesOf(s: ChatState) {
  const tl = s.timelines[ROOM];
  return roomEntries(tl.ids, s.messages, s.ephemeral[ROOM], s.pending, ROOM, !tl.hasNewer);
}

const mine = (over: Parameters<typeof makeMessage>[0]) => makeMessage({ author: authoredBy(ME), ...over });

describe('pending sends', () => {
  it('shows a queued message at the end of the room as pending', () => {
    const s = queue(applyAll(startedState(), [newMessage(makeMessage({ id: 1, seq: 6 }))]), 'c1');
    expect(entriesOf(s).map((e) => e.kind)).toEqual(['message', 'pending']);
    expect(queuedSends(s).map((p) => p.clientMsgId)).toEqual(['c1']);
  });

  it('keeps thread replies out of the room list', () => {
    const s = queue(startedState(), 'c1', 'in thread', 42);
    expect(entriesOf(s)).toEqual([]);
  });

  it('replaces the pending entry with the acknowledged message', () => {
    let s = reduce(queue(startedState(), 'c1'), { type: 'send/started', clientMsgIds: ['c1'] });
    expect(s.pending[0].status).toBe('sending');
    const m = mine({ id: 50, seq: 6, client_msg_id: 'c1' });
    s = reduce(s, frame({ type: 'ack', client_msg_id: 'c1', message: m }));
    expect(s.pending).toEqual([]);
    expect(s.timelines[ROOM].ids).toEqual([50]);
    expect(s.seqs[ROOM].last).toBe(6);
  });

  it('dedupes the message.new that follows an ack', () => {
    const m = mine({ id: 51, seq: 6 });
    let s = reduce(queue(startedState(), 'c1'), frame({ type: 'ack', client_msg_id: 'c1', message: m }));
    const after = reduce(s, frame(newMessage(m)));
    expect(after).toBe(s);
    s = after;
    expect(entriesOf(s)).toHaveLength(1);
  });

  it('settles the pending entry when message.new carrying its client_msg_id comes before the ack', () => {
    const m = mine({ id: 52, seq: 6, client_msg_id: 'c1' });
    let s = reduce(queue(startedState(), 'c1'), frame(newMessage(m)));
    expect(s.pending).toEqual([]);
    s = reduce(s, frame({ type: 'ack', client_msg_id: 'c1', message: m }));
    expect(s.timelines[ROOM].ids).toEqual([52]);
    expect(s.rooms[ROOM].unread).toBe(0);
  });

  it('without client_msg_id on message.new, the ack still settles it with no duplicate', () => {
    const m = mine({ id: 53, seq: 6 });
    let s = reduce(queue(startedState(), 'c1'), frame(newMessage(m)));
    expect(s.pending).toHaveLength(1);
    s = reduce(s, frame({ type: 'ack', client_msg_id: 'c1', message: m }));
    expect(s.pending).toEqual([]);
    expect(entriesOf(s).map((e) => e.key)).toEqual(['m53']);
  });

  it('records an acked seq past a hole as ahead, so the missing events still apply', () => {
    const m = mine({ id: 54, seq: 8 });
    let s = reduce(queue(startedState(), 'c1'), frame({ type: 'ack', client_msg_id: 'c1', message: m }));
    expect(s.seqs[ROOM]).toEqual({ last: 5, ahead: [8] });
    s = applyAll(s, [newMessage(makeMessage({ id: 40, seq: 6 })), newMessage(makeMessage({ id: 41, seq: 7 }))]);
    expect(s.seqs[ROOM]).toEqual({ last: 8, ahead: [] });
    expect(s.timelines[ROOM].ids).toEqual([40, 41, 54]);
  });

  it('counts a thread reply once whether its ack or its message.new comes first', () => {
    const root = makeMessage({ id: 60, seq: 6 });
    const reply = mine({ id: 61, seq: 7, thread_id: 60 });
    let s = applyAll(startedState(), [newMessage(root)]);
    s = queue(s, 'c1', 'reply', 60);
    s = reduce(s, frame({ type: 'ack', client_msg_id: 'c1', message: reply }));
    s = reduce(s, frame(newMessage(reply)));
    expect(s.messages[60].reply_count).toBe(1);
  });

  it('marks a send failed on an error frame that refers to it, and retry queues it again', () => {
    let s = reduce(queue(startedState(), 'c1'), { type: 'send/started', clientMsgIds: ['c1'] });
    s = reduce(s, frame({ type: 'error', code: 'rate_limited', message: 'Slow down', ref: 'c1' }));
    expect(s.pending[0]).toMatchObject({ status: 'failed', error: 'Slow down' });
    s = reduce(s, { type: 'send/retried', clientMsgId: 'c1' });
    expect(s.pending[0].status).toBe('queued');
    s = reduce(s, { type: 'send/discarded', clientMsgId: 'c1' });
    expect(s.pending).toEqual([]);
  });

  it('puts in-flight sends back in the queue when the connection drops', () => {
    let s = queue(queue(startedState(), 'c1'), 'c2');
    s = reduce(s, { type: 'send/started', clientMsgIds: ['c1'] });
    s = reduce(s, { type: 'connection/changed', status: 'reconnecting' });
    expect(queuedSends(s).map((p) => p.clientMsgId)).toEqual(['c1', 'c2']);
  });

  it('leaves failed sends alone when the connection drops', () => {
    let s = queue(startedState(), 'c1');
    s = reduce(s, { type: 'send/failed', clientMsgId: 'c1', error: 'too long' });
    s = reduce(s, { type: 'connection/changed', status: 'reconnecting' });
    expect(s.pending[0].status).toBe('failed');
  });
});
