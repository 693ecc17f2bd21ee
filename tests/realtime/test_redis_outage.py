"""Redis is the doorbell, the database is the truth: a dropped Redis connection
loses the doorbells rung meanwhile, and the server catches up from the database."""

from __future__ import annotations

import asyncio
import os
from urllib.parse import urlparse

import pytest
from asgiref.sync import sync_to_async

from chatserver.chat import actions
from tests.conftest import requires_redis

from .helpers import Api, TcpProxy, collect, connect, send_and_ack

pytestmark = [pytest.mark.live, pytest.mark.redis, requires_redis]


@pytest.fixture
async def proxied_server(start_server):
    """A server process whose Redis connections go through a proxy the test controls."""
    url = urlparse(os.environ["REDIS_URL"])
    proxy = await TcpProxy(url.hostname or "127.0.0.1", url.port or 6379).start()
    server = start_server(env={"REDIS_URL": f"redis://127.0.0.1:{proxy.port}{url.path}"})
    yield server, proxy
    await proxy.close()


@pytest.mark.parametrize(("outage", "stall"), [(0.5, True), (0.5, False), (2.5, False)],
                         ids=["reconnect-held-up", "refused-briefly", "refused-for-long"])
async def test_events_published_while_cut_off_from_redis_still_arrive(
        live, proxied_server, users, outage, stall):
    """The hub's reader sees the dropped connection, subscribes again (for long:
    after several failed tries) and reads what it missed from the database."""
    server, proxy = proxied_server
    alice, bob = await users("alice", "bob")
    room = await sync_to_async(actions.create_room)(actor=alice, name="outage")
    await sync_to_async(actions.invite)(actor=alice, room_id=room.id, user_ids=[bob.id])
    room = room.id
    b = await connect(server, bob, {room: 2})  # on the proxied process
    async with Api(live, alice) as api:  # writes go through the other process
        await api.post(room, "before")
        assert [f["seq"] for f in await collect(b, room, 3)] == [3]

        proxy.cut(outage, stall=stall)
        await api.post(room, "while cut off 1")  # 4: nobody on b's process hears it
        await api.post(room, "while cut off 2")  # 5
        # Nothing else happens in the room: the process must notice by itself.
        got = await collect(b, room, 5, timeout=outage + 8)
        assert [(f["seq"], f["message"]["body"]) for f in got] == [
            (4, "while cut off 1"), (5, "while cut off 2")]

        # Live again, in order and without duplicates, both ways.
        await api.post(room, "after")
        mark = len(b.frames)
        ack = await send_and_ack(b, room, "from b", "b1")
        assert ack["message"]["seq"] == 7
        got = await collect(b, room, 7, start=mark - 1 if mark else 0)
        seqs = [f["seq"] for f in b.frames if f.get("room") == room and "seq" in f]
        assert seqs == list(range(3, 8))
    a = await connect(live, alice, {room: 6})
    assert [f["message"]["body"] for f in await collect(a, room, 7, start=0)] == ["from b"]
    await asyncio.sleep(0)
    await a.close()
    await b.close()
