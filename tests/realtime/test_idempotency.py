"""Idempotent sends: a retried client_msg_id returns the original message, over any door."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async

from chatserver.chat import actions
from tests.wsclient import WS

from .helpers import Api, collect, connect, counts, room_events, send_and_ack

pytestmark = pytest.mark.live


async def _setup(users):
    alice, bob = await users("alice", "bob")
    room = await sync_to_async(actions.create_room)(actor=alice, name="retry")
    await sync_to_async(actions.invite)(actor=alice, room_id=room.id, user_ids=[bob.id])
    return alice, bob, room.id  # the room is at seq 2


async def test_retried_send_creates_one_message_on_every_door(live, users):
    alice, bob, room = await _setup(users)
    listener = await connect(live, bob, {room: 2})
    before = await counts()

    a1 = await connect(live, alice, {room: 2})
    first = await send_and_ack(a1, room, "hello once", "cm-1")
    again = await send_and_ack(a1, room, "hello once", "cm-1")  # same socket
    a2 = await connect(live, alice, {room: 3})
    other = await send_and_ack(a2, room, "hello once", "cm-1")  # a new socket
    async with Api(live, alice) as api:
        rest = await api.post(room, "hello once", cmid="cm-1", expect=(200,))  # REST after
        assert first["created"] is True
        assert again["created"] is other["created"] is False
        assert first["message"] == again["message"] == other["message"] == rest
        assert first["message"]["seq"] == 3

        # REST first, then the socket retries.
        made = await api.post(room, "second", cmid="cm-2")  # 201
        retry = await send_and_ack(a2, room, "second", "cm-2")
        assert retry["created"] is False
        assert retry["message"] == made
        assert made["seq"] == 4

    assert await counts() == dict(before, messages=before["messages"] + 2,
                                  room_events=before["room_events"] + 2)
    got = await collect(listener, room, 4)
    await asyncio.sleep(0.2)
    got += room_events(await listener.drain(0.2))
    assert [(f["type"], f["seq"], f["message"]["id"]) for f in got] == [
        ("message.new", 3, first["message"]["id"]), ("message.new", 4, made["id"])]
    for ws in (listener, a1, a2):
        await ws.close()


async def test_concurrent_retries_of_one_send_make_one_message(live, users):
    alice, bob, room = await _setup(users)
    sockets = [await connect(live, alice, {room: 2}) for _ in range(4)]
    before = await counts()
    for ws in sockets:
        await ws.send({"type": "message.send", "room": room, "body": "racing",
                       "client_msg_id": "race-1"})
    acks = [await ws.until("ack", 10, client_msg_id="race-1") for ws in sockets]
    assert len({a["message"]["id"] for a in acks}) == 1
    assert sorted(a["created"] for a in acks) == [False, False, False, True]
    after = await counts()
    assert after["messages"] == before["messages"] + 1
    assert after["room_events"] == before["room_events"] + 1
    for ws in sockets:
        await ws.close()


async def test_a_failed_send_is_not_remembered(live, users):
    alice, bob, room = await _setup(users)
    a = await connect(live, alice, {room: 2})
    before = await counts()
    await a.send({"type": "message.send", "room": 999_999, "body": "lost", "client_msg_id": "f1"})
    err = await a.until("error")
    assert (err["code"], err["ref"]) == ("not_found", "f1")
    await a.send({"type": "message.send", "room": room, "body": "x" * 10_001,
                  "client_msg_id": "f1"})
    err = await a.until("error")
    assert (err["code"], err["ref"]) == ("too_large", "f1")
    assert await counts() == before
    ack = await send_and_ack(a, room, "found", "f1")
    assert ack["created"] is True
    assert (ack["message"]["room"], ack["message"]["body"], ack["message"]["seq"]) == (
        room, "found", 3)
    assert (await counts())["messages"] == before["messages"] + 1
    await a.close()


async def test_client_msg_id_is_per_author(live, users):
    alice, bob, room = await _setup(users)
    a = await connect(live, alice, {room: 2})
    b = await WS.connect(live, bob.raw_token)
    await b.resume({room: 2})
    mine = await send_and_ack(a, room, "alice's", "same-id")
    theirs = await send_and_ack(b, room, "bob's", "same-id")
    assert mine["created"] is theirs["created"] is True
    assert mine["message"]["id"] != theirs["message"]["id"]
    assert (theirs["message"]["author"]["id"], theirs["message"]["body"]) == (bob.id, "bob's")
    await a.close()
    await b.close()
