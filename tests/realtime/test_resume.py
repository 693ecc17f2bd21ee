"""Resume: a client that was away gets exactly what it missed, in seq order, then goes live.

The check is Zulip's verify_action idea: the replayed events applied to the
client's stale state must give the same history as a fresh GET.
"""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async

from chatserver.chat import actions
from tests.wsclient import WS

from .helpers import (
    Api,
    apply_events,
    assert_only_ephemeral,
    collect,
    connect,
    db_events,
    last_seq,
    room_events,
    send_and_ack,
    type_seq,
)

pytestmark = pytest.mark.live


async def _room(owner, name, members=(), visibility="public"):
    room = await sync_to_async(actions.create_room)(actor=owner, name=name, visibility=visibility)
    if members:
        await sync_to_async(actions.invite)(actor=owner, room_id=room.id,
                                            user_ids=[m.id for m in members])
    return room.id


async def test_resume_replays_exactly_what_was_missed_then_goes_live(live, users):
    alice, bob, carol = await users("alice", "bob", "carol")
    room = await _room(alice, "general", [bob, carol])  # seqs 1..3: member.joined x3
    other = await _room(alice, "elsewhere", [carol])  # events here must not leak into `room`

    async with Api(live, alice) as a_api, Api(live, bob) as b_api, Api(live, carol) as c_api:
        # Carol is online while the room gets some history, then goes away.
        c = await connect(live, carol, {room: 3})
        old = [await a_api.post(room, f"old {i}") for i in range(6)]  # seqs 4..9
        seen = await collect(c, room, 9)
        assert type_seq(seen) == [("message.new", s) for s in range(4, 10)]
        await b_api.react(old[0]["id"], "eyes")  # seq 10
        await a_api.react(old[0]["id"], "eyes")  # seq 11
        await a_api.react(old[1]["id"], "tada")  # seq 12
        seen = await collect(c, room, 12)
        assert type_seq(seen) == [("reaction.added", s) for s in (10, 11, 12)]
        stale = await c_api.history(room)
        await c.close()
        carol_seq = 12

        # While she is away: 50 messages (HTTP and a socket), a thread reply,
        # 5 edits, 3 deletions, reaction adds and removes; all sequential, so
        # each one is the next seq.
        b = await connect(live, bob, {room: 12})
        expected: list[str] = []
        new: list[dict] = []
        for i in range(50):
            if i % 2:
                ack = await send_and_ack(b, room, f"new {i} from bob's socket", f"b-{i}")
                assert ack["created"] is True
                new.append(ack["message"])
            else:
                new.append(await a_api.post(room, f"new {i} from alice over HTTP"))
            expected.append("message.new")
        await a_api.post(room, "a reply in old 2's thread", thread_id=old[2]["id"])
        expected.append("message.new")
        await a_api.post(other, "not in this room")  # another room: not in this replay
        for m, api in ((old[0], a_api), (old[3], a_api), (new[0], a_api), (new[1], b_api),
                       (new[4], a_api)):
            await api.edit(m["id"], m["body"] + " (edited)")
            expected.append("message.edited")
        for m, api in ((old[4], a_api), (new[2], a_api), (new[3], b_api)):
            await api.delete(m["id"])
            expected.append("message.deleted")
        reactions = [
            (b_api.react, new[5], "+1", "reaction.added"),
            (a_api.react, new[5], "+1", "reaction.added"),
            (c_api.react, new[6], "heart", "reaction.added"),
            (b_api.unreact, old[0], "eyes", "reaction.removed"),
            (a_api.unreact, old[1], "tada", "reaction.removed"),
            (b_api.unreact, new[5], "+1", "reaction.removed"),
            (b_api.react, old[1], "tada", "reaction.added"),
            (a_api.react, new[0], "rocket", "reaction.added"),
        ]
        for call, m, emoji, etype in reactions:
            await call(m["id"], emoji)
            expected.append(etype)
        expected_ts = [(t, carol_seq + 1 + i) for i, t in enumerate(expected)]
        final_seq = expected_ts[-1][1]
        assert await last_seq(room) == final_seq

        # Carol comes back and resumes from what she had.
        c2 = await WS.connect(live, carol.raw_token)
        replay = await c2.resume({room: carol_seq, other: 2})
        assert type_seq(room_events(replay, room)) == expected_ts
        assert [(f["type"], f["seq"]) for f in room_events(replay, other)] == [
            ("message.new", 3)]
        assert_only_ephemeral(replay)
        # The frames are exactly the stored events.
        assert room_events(replay, room) == [f for _, _, f in await db_events(room, carol_seq)]
        # verify_action: stale state + replay == a fresh read.
        fresh = await c_api.history(room)
        assert apply_events(stale, room_events(replay, room)) == fresh
        assert len(fresh) == 6 + 50 - 3

        # Live again, without duplicates: more posts from both doors.
        await a_api.post(room, "live 1")
        await send_and_ack(b, room, "live 2", "b-live-2")
        await a_api.post(room, "live 3")
        live_frames = await collect(c2, room, final_seq + 3)
        assert type_seq(live_frames) == [("message.new", final_seq + i) for i in (1, 2, 3)]
        assert [f["message"]["body"] for f in live_frames] == ["live 1", "live 2", "live 3"]
        await asyncio.sleep(0.3)
        rest = await c2.drain(0.2)
        assert room_events(rest) == []
        seqs = [f["seq"] for f in room_events(c2.frames, room)]
        assert seqs == sorted(set(seqs)) == list(range(carol_seq + 1, final_seq + 4))
        await b.close()
        await c2.close()


async def test_resume_while_the_room_is_busy_gets_every_event_once(live, users):
    """Live events that arrive while the replay is read are held, then de-duplicated."""
    alice, bob = await users("alice", "bob")
    room = await _room(alice, "busy", [bob])  # seqs 1, 2
    a = await connect(live, alice, {room: 2})
    for i in range(20):
        await send_and_ack(a, room, f"before {i}", f"before-{i}")  # seqs 3..22

    async def burst():
        for i in range(40):
            await send_and_ack(a, room, f"during {i}", f"during-{i}")  # seqs 23..62

    task = asyncio.create_task(burst())
    joined = []
    for start in (2, 10, 22):  # three reconnects at different moments of the burst
        b = await WS.connect(live, bob.raw_token)
        await b.resume({room: start})
        joined.append((start, b))
        await asyncio.sleep(0.05)
    await task
    for start, b in joined:
        frames = await collect(b, room, 62, start=0)
        assert [f["seq"] for f in frames] == list(range(start + 1, 63))
        await b.close()
    await a.close()


async def test_resume_too_many_events_answers_resync_required(start_server, users):
    server = start_server(env={"CHAT_MAX_REPLAY_EVENTS": "10"})
    alice, bob = await users("alice", "bob")
    room = await _room(alice, "chatty", [bob])  # seqs 1, 2
    async with Api(server, alice) as api:
        for i in range(15):
            await api.post(room, f"m{i}")  # seqs 3..17
        b = await WS.connect(server, bob.raw_token)
        # 15 missed (more than 10): resync; 10 missed: replayed.
        replay = await b.resume({room: 2})
        assert [f for f in replay if f["type"] != "presence"] == [
            {"type": "resync_required", "room": room, "last_seq": 17}]
        await b.close()
        b = await WS.connect(server, bob.raw_token)
        replay = await b.resume({room: 7})
        assert type_seq(room_events(replay)) == [("message.new", s) for s in range(8, 18)]
        await b.close()
        # After resync_required the socket is live from the room's current seq.
        b = await WS.connect(server, bob.raw_token)
        await b.resume({room: 0})
        await api.post(room, "after resync")
        frames = await collect(b, room, 18)
        assert type_seq(frames) == [("message.new", 18)]
        await b.close()


async def test_resume_from_before_the_retention_window_answers_resync_required(live, users):
    from django.core.management import call_command
    from django.utils import timezone

    from chatserver.events.models import RoomEvent

    alice, bob = await users("alice", "bob")
    room = await _room(alice, "old-news", [bob])  # seqs 1, 2
    async with Api(live, alice) as api:
        for i in range(6):
            await api.post(room, f"m{i}")  # seqs 3..8

    def prune_first_five():
        RoomEvent.objects.filter(room_id=room, seq__lte=5).update(
            created_at=timezone.now() - timedelta(days=31))
        call_command("prune_events", days=30, stdout=io.StringIO())
        return list(RoomEvent.objects.filter(room_id=room).values_list("seq", flat=True)
                    .order_by("seq"))

    assert await sync_to_async(prune_first_five)() == [6, 7, 8]
    b = await WS.connect(live, bob.raw_token)
    replay = await b.resume({room: 4})
    assert room_events(replay) == []
    assert [f for f in replay if f["type"] == "resync_required"] == [
        {"type": "resync_required", "room": room, "last_seq": 8}]
    await b.close()
    b = await WS.connect(live, bob.raw_token)
    replay = await b.resume({room: 5})  # the oldest kept event is 6: nothing is lost
    assert type_seq(room_events(replay)) == [("message.new", 6), ("message.new", 7),
                                             ("message.new", 8)]
    await b.close()


async def test_removed_member_gets_nothing_of_a_private_room(live, users):
    alice, bob = await users("alice", "bob")
    secret = await _room(alice, "secret", [bob], visibility="private")  # seqs 1, 2
    lobby = await _room(alice, "lobby", [bob])  # seqs 1, 2: a barrier room
    async with Api(live, alice) as api:
        # Live: bob sees the room until he is removed, then nothing more of it.
        b = await connect(live, bob, {secret: 2, lobby: 2})
        await api.post(secret, "before removal")  # 3
        await api.remove_member(secret, bob.id)  # 4: member.left (bob)
        await api.post(secret, "after removal 1")  # 5
        removed = await b.until("room.removed", room_id=secret)
        await api.post(secret, "after removal 2")  # 6
        await api.post(lobby, "barrier")  # lobby 3
        await collect(b, lobby, 3)
        await asyncio.sleep(0.3)
        b.frames.extend(await b.drain(0.2))
        got = room_events(b.frames, secret)
        # member.left (4) may or may not get there: room.removed comes on the user
        # stream, and the socket drops the room at whichever arrives first.
        assert type_seq(got) in ([("message.new", 3), ("member.left", 4)], [("message.new", 3)])
        assert all(f["message"]["body"] == "before removal" for f in got
                   if f["type"] == "message.new")
        assert removed["user_seq"] == 3  # room.added x2, then room.removed
        await b.close()

        # Resume from before the removal: the room is not his any more.
        await api.post(secret, "after removal 3")  # 7
        b = await WS.connect(live, bob.raw_token)
        replay = await b.resume({secret: 2, lobby: 3}, user_seq=2)
        assert room_events(replay) == []
        assert [f for f in replay if f["type"] == "error"] == [
            {"type": "error", "code": "not_found", "message": "Room not found.",
             "ref": str(secret)}]
        assert [(f["type"], f["room_id"]) for f in replay if f["type"] == "room.removed"] == [
            ("room.removed", secret)]
        await api.post(secret, "after removal 4")  # 8
        await api.post(lobby, "barrier 2")  # lobby 4
        await collect(b, lobby, 4)
        await asyncio.sleep(0.2)
        assert room_events(b.frames + await b.drain(0.2), secret) == []
        await b.close()


async def test_removed_while_resuming_replays_nothing(live, users):
    """Removal between connect and resume: the replay checks membership again."""
    alice, bob = await users("alice", "bob")
    secret = await _room(alice, "secret2", [bob], visibility="private")
    async with Api(live, alice) as api:
        await api.post(secret, "hidden 1")  # 3
        b = await WS.connect(live, bob.raw_token)  # subscribed to `secret` here
        await api.remove_member(secret, bob.id)  # 4
        await api.post(secret, "hidden 2")  # 5
        replay = await b.resume({secret: 2})
        assert room_events(replay, secret) == []
        await api.post(secret, "hidden 3")
        await asyncio.sleep(0.3)
        assert room_events(b.frames + await b.drain(0.2), secret) == []
        await b.close()


async def test_user_stream_room_added_goes_live_and_room_removed(live, users):
    alice, bob = await users("alice", "bob")
    async with Api(live, alice) as api:
        b = await connect(live, bob, {})
        room = (await api.call("POST", "/rooms", json={"name": "new-room",
                                                         "visibility": "private"}))["id"]
        await api.post(room, "before bob")  # seq 2
        await api.invite(room, bob.id)  # seq 3: member.joined bob
        added = await b.until("room.added")
        assert added["user_seq"] == 1
        assert added["room"]["id"] == room
        assert added["since"] == 2
        joined = await collect(b, room, 3)
        assert type_seq(joined) == [("member.joined", 3)]
        assert joined[0]["user_id"] == bob.id
        await api.post(room, "hello bob")  # seq 4: the new room is live
        got = await collect(b, room, 4)
        assert [(f["type"], f["seq"], f["message"]["body"]) for f in got] == [
            ("message.new", 4, "hello bob")]
        # bob can post there over the same socket
        mark = len(b.frames)
        ack = await send_and_ack(b, room, "hi alice", "b1")
        assert ack["message"]["seq"] == 5
        assert type_seq(await collect(b, room, 5, start=mark)) == [("message.new", 5)]

        await api.remove_member(room, bob.id)  # seq 6
        removed = await b.until("room.removed")
        assert removed == {"type": "room.removed", "user_seq": 2, "room_id": room}
        await api.post(room, "bob is gone")  # 7
        await asyncio.sleep(0.3)
        later = room_events(b.frames + await b.drain(0.2), room)
        # 6 (member.left) only if it beat room.removed; never 7.
        assert [f["seq"] for f in later] in ([3, 4, 5], [3, 4, 5, 6])
        await b.close()

        # The user stream resumes too: a new socket asking from user_seq 0.
        b = await WS.connect(live, bob.raw_token)
        replay = await b.resume({}, user_seq=0)
        assert [(f["type"], f["user_seq"]) for f in replay if "user_seq" in f] == [
            ("room.added", 1), ("room.removed", 2)]
        await b.close()


async def test_resume_longer_than_the_socket_queue(start_server, users):
    """A replay bigger than the per-socket queue is fed as the client reads, not cut 4408."""
    server = start_server(env={"CHAT_SOCKET_QUEUE": "20"})
    alice, bob = await users("alice", "bob")
    room = await _room(alice, "backlog", [bob])  # seqs 1, 2
    side = await _room(alice, "side", [bob])  # seqs 1, 2

    def write_history():  # bob is not connected yet: plain actions will do
        for i in range(120):
            actions.post_message(actor=alice, room_id=room, body=f"m{i}")  # seqs 3..122
        for i in range(5):
            actions.post_message(actor=alice, room_id=side, body=f"s{i}")  # side seqs 3..7
        for i in range(30):  # 30 user events for bob: room.removed / room.added
            if i % 2 == 0:
                actions.remove_member(actor=alice, room_id=room, user_id=bob.id)
            else:
                actions.invite(actor=alice, room_id=room, user_ids=[bob.id])
        # room: 123..152 member.left / member.joined; bob is a member again at the end

    await sync_to_async(write_history)()
    b = await WS.connect(server, bob.raw_token)
    replay = await b.resume({room: 0, side: 0}, user_seq=0)
    assert type_seq(room_events(replay, room)) == (
        [("member.joined", 1), ("member.joined", 2)]
        + [("message.new", s) for s in range(3, 123)]
        + [("member.left" if i % 2 == 0 else "member.joined", 123 + i) for i in range(30)])
    assert [f["seq"] for f in room_events(replay, side)] == list(range(1, 8))
    assert [f["user_seq"] for f in replay if "user_seq" in f] == list(range(1, 33))
    await b.send({"type": "ping"})
    await b.until("pong")
    await b.close()


async def test_live_events_held_during_a_stalled_replay_are_not_lost(start_server, users):
    """Events that arrive while a long replay waits for the client are held (bounded);
    past the bound the newest is kept and the gap is read back from the database."""
    from .helpers import stalled_socket

    server = start_server(env={"CHAT_SOCKET_QUEUE": "20"})
    alice, bob = await users("alice", "bob")
    room = await _room(alice, "stalled-replay", [bob])  # seqs 1, 2
    big = "\N{GRINNING FACE}" * 10_000  # ~80 KB frames: fill the kernel buffers fast

    def write_history():
        for _ in range(80):  # seqs 3..82 (6.4 MB, more than the kernel buffers hold)
            actions.post_message(actor=alice, room_id=room, body=big)

    await sync_to_async(write_history)()
    async with Api(server, alice) as api:
        b = await stalled_socket(server, bob)
        b.conn.transport.pause_reading()
        await b.send({"type": "resume", "rooms": {str(room): 2}})
        await asyncio.sleep(0.3)  # the replay is now waiting for bob to read
        for i in range(30):  # more than the queue: the held events are cut to the newest
            await api.post(room, f"live {i}")  # seqs 83..112
    b.conn.transport.resume_reading()
    frames = await collect(b, room, 112, start=0, timeout=20)
    assert [f["seq"] for f in frames] == list(range(3, 113))
    assert [f["message"]["body"] for f in frames[-30:]] == [f"live {i}" for i in range(30)]
    await b.close()
