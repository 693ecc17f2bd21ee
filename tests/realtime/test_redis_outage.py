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
from tests.wsclient import WS

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


@pytest.mark.parametrize(("outage", "stall"), [(0.5, True), (1.6, False)],
                         ids=["reconnect-held-up", "refused-for-long"])
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


async def _warm_up(server, users) -> None:
    """Start the process's hub (its first socket, of a user in no room of the test)
    before the test slows Redis down."""
    (carol,) = await users("carol")
    ws = await connect(server, carol, {})
    await ws.close()


async def test_event_right_after_resume_on_a_new_room_subscription(live, proxied_server, users):
    """ready means subscribed: an event committed right after it is heard, even
    when the process's SUBSCRIBE takes a while to reach Redis."""
    server, proxy = proxied_server
    alice, bob = await users("alice", "bob")
    room = await sync_to_async(actions.create_room)(actor=alice, name="slow-subscribe")
    await sync_to_async(actions.invite)(actor=alice, room_id=room.id, user_ids=[bob.id])
    room = room.id
    await _warm_up(server, users)
    proxy.delay = 0.6  # the SUBSCRIBE for `room` reaches Redis 0.6 s late
    b = await connect(server, bob, {room: 2})
    async with Api(live, alice) as api:
        await api.post(room, "right after ready")  # seq 3, published through the other process
    proxy.delay = 0
    got = await collect(b, room, 3, timeout=5)
    assert [(f["seq"], f["message"]["body"]) for f in got] == [(3, "right after ready")]
    await b.close()


async def test_event_while_connecting_reaches_a_socket_that_did_not_resume(
        live, proxied_server, users):
    """A room the client did not name in resume goes live from the seq it had at
    connect: an event committed while the socket was being set up is not lost."""
    server, proxy = proxied_server
    alice, bob = await users("alice", "bob")
    room = await sync_to_async(actions.create_room)(actor=alice, name="connecting")
    await sync_to_async(actions.invite)(actor=alice, room_id=room.id, user_ids=[bob.id])
    room = room.id
    await _warm_up(server, users)
    proxy.delay = 0.6
    connecting = asyncio.create_task(WS.connect(server, bob.raw_token))
    await asyncio.sleep(0.2)  # the server has read bob's rooms and is subscribing
    async with Api(live, alice) as api:
        await api.post(room, "while connecting")  # seq 3
    b = await connecting
    proxy.delay = 0
    await b.resume({})  # no rooms named: live from the seq at connect (2)
    got = await collect(b, room, 3, timeout=5, start=0)
    assert [(f["seq"], f["message"]["body"]) for f in got] == [(3, "while connecting")]
    await b.close()
