"""daphne keeps working: the same protocol through the other ASGI server."""

from __future__ import annotations

import httpx
import pytest
from asgiref.sync import sync_to_async

from chatserver.chat import actions
from tests.wsclient import WS

from .helpers import Api, collect, connect, room_events, send_and_ack, wait_closed

pytestmark = pytest.mark.live


async def test_two_clients_on_daphne_see_each_others_messages_in_order(start_server, users):
    server = start_server(server="daphne")
    alice, bob = await users("alice", "bob")
    room = await sync_to_async(actions.create_room)(actor=alice, name="ops")
    await sync_to_async(actions.invite)(actor=alice, room_id=room.id, user_ids=[bob.id])
    room = room.id
    a = await WS.connect(server, alice.raw_token)
    b = await WS.connect(server, bob.raw_token)
    await a.resume({room: 2})
    await b.resume({room: 2})
    for i in range(5):
        await a.send({"type": "message.send", "room": room, "body": f"a{i}",
                      "client_msg_id": f"a{i}"})
        await b.send({"type": "message.send", "room": room, "body": f"b{i}",
                      "client_msg_id": f"b{i}"})
    seen_a = [await a.until("message.new") for _ in range(10)]
    seen_b = [await b.until("message.new") for _ in range(10)]
    assert [f["seq"] for f in seen_a] == list(range(3, 13))
    assert [f["seq"] for f in seen_b] == list(range(3, 13))
    assert [f["message"]["body"] for f in seen_a] == [f["message"]["body"] for f in seen_b]
    assert {f["message"]["body"] for f in seen_a} == {f"{x}{i}" for x in "ab" for i in range(5)}
    async with httpx.AsyncClient(base_url=server.url) as c:
        page = (await c.get(f"/api/v1/rooms/{room}/messages",
                            headers={"Authorization": f"Bearer {bob.raw_token}"})).json()
    assert [m["body"] for m in page["results"]] == [f["message"]["body"] for f in seen_a]
    await a.close()
    await b.close()


async def test_daphne_resume_auth_and_errors(start_server, users):
    server = start_server(server="daphne")
    alice, bob = await users("alice", "bob")
    room = await sync_to_async(actions.create_room)(actor=alice, name="daphne-room")
    await sync_to_async(actions.invite)(actor=alice, room_id=room.id, user_ids=[bob.id])
    room = room.id
    async with Api(server, alice) as api:
        for i in range(5):
            await api.post(room, f"m{i}")  # seqs 3..7
        b = await WS.connect(server)
        await b.send({"type": "auth", "token": bob.raw_token})
        assert (await b.until("auth.ok"))["user_id"] == bob.id
        replay = await b.resume({room: 4})
        assert [f["seq"] for f in room_events(replay)] == [5, 6, 7]
        await b.send("{oops")
        assert (await b.until("error"))["code"] == "invalid_json"
        ack = await send_and_ack(b, room, "still fine", "d1")
        assert ack["message"]["seq"] == 8
        await api.post(room, "live")
        assert [f["seq"] for f in await collect(b, room, 9, start=0)][-2:] == [8, 9]
        bad = await WS.connect(server, "ct_wrong")
        assert await wait_closed(bad) == 4401
        c = await connect(server, alice, {room: 9})
        await c.send({"type": "ping"})
        await c.until("pong")
        await c.close()
        await b.close()
