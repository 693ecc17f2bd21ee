"""Two real server processes behind Redis: every socket sees every event, in order."""

from __future__ import annotations

import asyncio
import os

import pytest
from asgiref.sync import sync_to_async

from chatserver.chat import actions
from tests.conftest import requires_redis

from .helpers import Api, collect, connect, room_events, send_and_ack

pytestmark = [pytest.mark.live, pytest.mark.redis, requires_redis]


async def test_messages_cross_processes_in_order_without_loss(live, start_server, users):
    a_srv, b_srv = live, start_server()
    alice, bob, carol, dave, erin = await users("alice", "bob", "carol", "dave", "erin")
    room = await sync_to_async(actions.create_room)(actor=alice, name="two-procs")
    await sync_to_async(actions.invite)(actor=alice, room_id=room.id,
                                        user_ids=[bob.id, carol.id, dave.id, erin.id])
    room = room.id  # seq 5
    on_a = await connect(a_srv, carol, {room: 5})
    on_b = await connect(b_srv, dave, {room: 5})
    sender_a = await connect(a_srv, alice, {room: 5})
    sender_b = await connect(b_srv, bob, {room: 5})

    async def socket_sender(ws, tag: str, n: int) -> None:
        for i in range(n):  # pipelined: the acks are read at the end
            await ws.send({"type": "message.send", "room": room, "body": f"{tag}{i}",
                           "client_msg_id": f"{tag}{i}"})
        for i in range(n):
            await ws.until("ack", 20, client_msg_id=f"{tag}{i}")

    async def http_sender(server, tag: str, n: int) -> None:
        async with Api(server, erin) as api:
            for i in range(n):
                await api.post(room, f"{tag}{i}")

    await asyncio.gather(socket_sender(sender_a, "sa", 80), socket_sender(sender_b, "sb", 80),
                         http_sender(a_srv, "ha", 20), http_sender(b_srv, "hb", 20))
    final = 5 + 200
    seen = {}
    for name, ws in (("a", on_a), ("b", on_b), ("sender_a", sender_a), ("sender_b", sender_b)):
        got = await collect(ws, room, final, start=0, timeout=20)
        assert [f["seq"] for f in got] == list(range(6, final + 1)), name
        seen[name] = [f["message"]["body"] for f in got]
    assert seen["a"] == seen["b"] == seen["sender_a"] == seen["sender_b"]
    # Each sender's own messages keep the order they were sent in.
    for tag in ("sa", "sb", "ha", "hb"):
        assert [b for b in seen["a"] if b.startswith(tag)] == [f"{tag}{i}" for i in
                                                                 range(80 if tag[0] == "s"
                                                                       else 20)]
    async with Api(a_srv, carol) as api:
        assert [m["body"] for m in await api.history(room)] == seen["a"]
    for ws in (on_a, on_b, sender_a, sender_b):
        await ws.close()


async def test_user_events_and_new_rooms_cross_processes(live, start_server, users):
    """room.added made on process A reaches a socket on B, which then goes live there."""
    b_srv = start_server()
    alice, bob = await users("alice", "bob")
    on_b = await connect(b_srv, bob, {})
    async with Api(live, alice) as api:
        room = (await api.call("POST", "/rooms", json={"name": "made-on-a"}))["id"]
        await api.invite(room, bob.id)  # seq 2
        added = await on_b.until("room.added")
        assert (added["room"]["id"], added["since"]) == (room, 1)
        await api.post(room, "via A")  # seq 3
        got = await collect(on_b, room, 3, start=0)
        assert [(f["type"], f["seq"]) for f in got] == [("member.joined", 2),
                                                         ("message.new", 3)]
        ack = await send_and_ack(on_b, room, "via B", "b1")
        assert ack["message"]["seq"] == 4
    on_a = await connect(live, alice, {room: 3})
    got = await collect(on_a, room, 4, start=0)
    assert [f["message"]["body"] for f in room_events(got)] == ["via B"]
    await on_a.close()
    await on_b.close()


async def test_a_user_back_within_the_linger_still_hears_user_events(live, start_server,
                                                                     users):
    """A user's last socket closing keeps the user's Redis channel a while (a
    reconnect storm costs Redis nothing); a socket back within that time must
    still get events published from the other process."""
    b_srv = start_server()
    alice, bob = await users("alice", "bob")
    first = await connect(b_srv, bob, {})
    await first.close()
    await asyncio.sleep(0.3)  # B has seen the close: bob's channel lingers
    again = await connect(b_srv, bob, {})
    async with Api(live, alice) as api:
        room = (await api.call("POST", "/rooms", json={"name": "linger"}))["id"]
        await api.invite(room, bob.id)
        added = await again.until("room.added")
        assert added["room"]["id"] == room
        await api.post(room, "after the linger reuse")
        got = await collect(again, room, 3, start=0)
        assert [f["type"] for f in got] == ["member.joined", "message.new"]
    await again.close()


async def test_another_deployment_on_the_same_redis_is_not_heard(live, users):
    """Pub/sub channels are global to a Redis server (the /N in REDIS_URL does not
    scope them): events of another deployment's room with the same id and seq
    must not reach our sockets, nor shadow our own event with that seq."""
    import json

    import redis

    alice, bob = await users("alice", "bob")
    room = await sync_to_async(actions.create_room)(actor=alice, name="not-shared")
    await sync_to_async(actions.invite)(actor=alice, room_id=room.id, user_ids=[bob.id])
    room = room.id
    b = await connect(live, bob, {room: 2})
    foreign = json.dumps({"type": "message.new", "room": room, "seq": 3, "message": {
        "id": 10**9, "room": room, "seq": 3, "body": "from another deployment"}})
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    try:
        for channel in (f"chat:room:{room}", f"chat:0123456789:room:{room}"):
            client.publish(channel, f"{room}|3|message.new|0|{foreign}")
    finally:
        client.close()
    async with Api(live, alice) as api:
        await api.post(room, "ours")  # seq 3 of our database
    got = await collect(b, room, 3)
    assert [(f["seq"], f["message"]["body"]) for f in got] == [(3, "ours")]
    await b.close()
