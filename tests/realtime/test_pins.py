"""Pins over real sockets: a second client sees a pin and an unpin live, and a
client that was away gets them on resume; its stale state plus the replay
equals a fresh read of the history and of the pinned list (verify_action)."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from chatserver.chat import actions
from tests.wsclient import WS

from .helpers import (
    Api,
    apply_events,
    apply_pin_events,
    assert_only_ephemeral,
    collect,
    connect,
    db_events,
    last_seq,
    room_events,
    type_seq,
)

pytestmark = pytest.mark.live


async def _room(owner, name, members=()):
    room = await sync_to_async(actions.create_room)(actor=owner, name=name)
    await sync_to_async(actions.invite)(actor=owner, room_id=room.id,
                                        user_ids=[m.id for m in members])
    return room.id


async def test_second_client_sees_pin_and_unpin_live(live, users):
    alice, bob = await users("alice", "bob")
    room = await _room(alice, "ops", [bob])  # seqs 1, 2
    async with Api(live, alice) as a_api:
        b = await connect(live, bob, {room: 2})
        msg = await a_api.post(room, "rollback plan: revert 4f2c")  # seq 3
        pinned = await a_api.pin(room, msg["id"])  # seq 4
        frames = await collect(b, room, 4)
        assert type_seq(frames) == [("message.new", 3), ("message.pinned", 4)]
        event = frames[-1]
        assert event["message_id"] == msg["id"] and event["message"] == pinned
        assert event["message"]["pinned_by"] == alice.id
        assert event["by"] == {"id": alice.id, "username": "alice", "display_name": "Alice",
                               "is_bot": False}

        await a_api.pin(room, msg["id"], expect=(200,))  # already pinned: no event
        await a_api.unpin(room, msg["id"])  # seq 5
        frames = await collect(b, room, 5)
        assert type_seq(frames) == [("message.unpinned", 5)]
        assert frames[0]["message"]["pinned_at"] is None
        assert frames[0]["by"]["id"] == alice.id
        assert await last_seq(room) == 5
        await b.close()


async def test_resume_replays_pins_and_matches_a_fresh_read(live, users):
    alice, bob, carol = await users("alice", "bob", "carol")
    room = await _room(alice, "incident", [bob, carol])  # seqs 1..3
    async with Api(live, alice) as a_api, Api(live, bob) as b_api, Api(live, carol) as c_api:
        first = await a_api.post(room, "first")  # 4
        second = await b_api.post(room, "second")  # 5
        await a_api.pin(room, first["id"])  # 6
        stale_history = await c_api.history(room)
        stale_pins = await c_api.pins(room)
        assert [m["id"] for m in stale_pins] == [first["id"]]
        carol_seq = await last_seq(room)

        # While carol is away: pins, an edit of a pinned message, an unpin, and a
        # pinned message deleted (which unpins it).
        third = await a_api.post(room, "third")  # 7
        await b_api.pin(room, second["id"])  # 8
        await a_api.pin(room, third["id"])  # 9
        await b_api.edit(second["id"], "second (edited)")  # 10
        await b_api.unpin(room, first["id"])  # 11
        await a_api.delete(third["id"])  # 12

        c = await WS.connect(live, carol.raw_token)
        replay = await c.resume({room: carol_seq})
        assert type_seq(room_events(replay, room)) == [
            ("message.new", 7), ("message.pinned", 8), ("message.pinned", 9),
            ("message.edited", 10), ("message.unpinned", 11), ("message.deleted", 12)]
        assert_only_ephemeral(replay)
        # The frames are the stored events; the deleted message's pin is redacted.
        assert room_events(replay, room) == [f for _, _, f in await db_events(room, carol_seq)]
        assert room_events(replay, room)[2]["message"]["body"] == ""

        fresh_history = await c_api.history(room)
        fresh_pins = await c_api.pins(room)
        assert [m["id"] for m in fresh_pins] == [second["id"]]
        assert fresh_pins[0]["body"] == "second (edited)"
        assert apply_events(stale_history, room_events(replay, room)) == fresh_history
        assert apply_pin_events(stale_pins, room_events(replay, room)) == fresh_pins

        # Live again: the next pin arrives once, after the replay.
        await a_api.pin(room, first["id"])  # 13
        frames = await collect(c, room, 13)
        assert type_seq(frames) == [("message.pinned", 13)]
        await c.close()
