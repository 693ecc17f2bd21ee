"""Two clients in a room see each other's messages, in order, through a real server."""

import httpx
import pytest

from chatserver.chat import actions
from tests.wsclient import WS

pytestmark = pytest.mark.live


async def test_two_clients_see_each_others_messages_in_order(live, make_user):
    from asgiref.sync import sync_to_async

    alice = await sync_to_async(make_user)("alice")
    bob = await sync_to_async(make_user)("bob")
    room = await sync_to_async(actions.create_room)(actor=alice, name="ops")
    await sync_to_async(actions.invite)(actor=alice, room_id=room.id, user_ids=[bob.id])

    a = await WS.connect(live, alice.raw_token)
    b = await WS.connect(live, bob.raw_token)
    await a.resume({room.id: 2})
    await b.resume({room.id: 2})
    for i in range(5):
        await a.send({"type": "message.send", "room": room.id, "body": f"a{i}",
                      "client_msg_id": f"a{i}"})
        await b.send({"type": "message.send", "room": room.id, "body": f"b{i}",
                      "client_msg_id": f"b{i}"})
    seen_a = [await a.until("message.new") for _ in range(10)]
    seen_b = [await b.until("message.new") for _ in range(10)]
    assert [f["seq"] for f in seen_a] == list(range(3, 13))
    assert [f["message"]["body"] for f in seen_a] == [f["message"]["body"] for f in seen_b]
    assert {f["message"]["body"] for f in seen_a} == {f"{x}{i}" for x in "ab" for i in range(5)}
    async with httpx.AsyncClient(base_url=live.url) as c:
        page = (await c.get(f"/api/v1/rooms/{room.id}/messages",
                            headers={"Authorization": f"Bearer {bob.raw_token}"})).json()
    assert [m["body"] for m in page["results"]] == [f["message"]["body"] for f in seen_a]
    await a.close()
    await b.close()
