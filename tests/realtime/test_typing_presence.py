"""Ephemeral frames: typing reaches the room's other members only; presence online/offline."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from asgiref.sync import sync_to_async

from chatserver.chat import actions
from tests.conftest import requires_redis

from .helpers import Api, collect, connect

pytestmark = pytest.mark.live


async def _rooms(users):
    alice, bob, carol = await users("alice", "bob", "carol")
    room = await sync_to_async(actions.create_room)(actor=alice, name="typing-room")
    await sync_to_async(actions.invite)(actor=alice, room_id=room.id, user_ids=[bob.id])
    side = await sync_to_async(actions.create_room)(actor=alice, name="side-room")
    await sync_to_async(actions.invite)(actor=alice, room_id=side.id, user_ids=[carol.id])
    return alice, bob, carol, room.id, side.id  # both rooms at seq 2


def typing_frames(frames):
    return [f for f in frames if f["type"] == "typing"]


async def test_typing_reaches_other_members_only(live, users):
    alice, bob, carol, room, side = await _rooms(users)
    a = await connect(live, alice, {room: 2, side: 2})
    a2 = await connect(live, alice, {room: 2, side: 2})  # alice's second tab
    b = await connect(live, bob, {room: 2})
    c = await connect(live, carol, {side: 2})  # an outsider to `room`, shares `side` with alice

    await a.send({"type": "typing", "room": room})
    assert await b.until("typing") == {"type": "typing", "room": room, "user_id": alice.id}
    await a.send({"type": "typing", "room": room})  # within 2 s: coalesced, not sent again
    await b.send({"type": "typing", "room": room})
    assert await a.until("typing") == {"type": "typing", "room": room, "user_id": bob.id}

    # A barrier: a message in each room, after the typing frames.
    async with Api(live, alice) as api:
        await api.post(room, "barrier")
        await api.post(side, "barrier")
    await collect(b, room, 3)
    await collect(a2, room, 3)
    await collect(c, side, 3)
    await asyncio.sleep(0.2)
    for ws in (a, a2, b, c):
        ws.frames.extend(await ws.drain(0.2))
    assert typing_frames(b.frames) == [{"type": "typing", "room": room, "user_id": alice.id}]
    assert typing_frames(c.frames) == []  # not a member of `room`
    # The typist's own sockets do not get their own typing back.
    assert typing_frames(a.frames) == [{"type": "typing", "room": room, "user_id": bob.id}]
    assert typing_frames(a2.frames) == [{"type": "typing", "room": room, "user_id": bob.id}]

    # Typing in a (public, visible) room one is not in is refused: join first.
    await c.send({"type": "typing", "room": room})
    assert (await c.until("error"))["code"] == "forbidden"
    for ws in (a, a2, b, c):
        await ws.close()


async def test_presence_online_then_offline_after_the_grace(start_server, users):
    server = start_server(env={"CHAT_PRESENCE_GRACE": "0.5", "CHAT_PRESENCE_TICK": "0.2"})
    alice, bob, carol, room, side = await _rooms(users)
    a = await connect(server, alice, {room: 2})

    def presence_of(uid):
        return lambda f: f["type"] == "presence" and f.get("user_id") == uid

    async def next_presence(uid, timeout=3.0):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            f = await a.recv(max(0.01, deadline - loop.time()))
            if presence_of(uid)(f):
                return f

    loop = asyncio.get_running_loop()
    b = await connect(server, bob, {room: 2})
    t0 = loop.time()
    assert await next_presence(bob.id) == {"type": "presence", "user_id": bob.id,
                                           "status": "online"}
    assert loop.time() - t0 < 1.0  # sent at the next tick
    await b.close()
    t0 = loop.time()
    assert await next_presence(bob.id) == {"type": "presence", "user_id": bob.id,
                                           "status": "offline"}
    assert 0.45 < loop.time() - t0 < 1.5  # the grace, then the next tick

    # A quick reconnect (a page reload) inside the grace sends nothing.
    b = await connect(server, bob, {room: 2})
    assert (await next_presence(bob.id))["status"] == "online"
    await b.close()
    b = await connect(server, bob, {room: 2})
    await asyncio.sleep(1.0)  # twice the grace
    assert [f for f in await a.drain(0.1) if presence_of(bob.id)(f)] == []
    # REST agrees.
    async with Api(server, alice) as api:
        assert (await api.call("GET", f"/users/{bob.id}"))["presence"] == "online"
        await b.close()
        assert (await next_presence(bob.id))["status"] == "offline"
        assert (await api.call("GET", f"/users/{bob.id}"))["presence"] == "offline"
    await a.close()


@requires_redis
async def test_presence_across_two_processes(start_server, users):
    """Online on B keeps a user online for A's sockets after they left A."""
    env = {"CHAT_PRESENCE_GRACE": "0.3", "CHAT_PRESENCE_TICK": "0.2"}
    a_srv, b_srv = start_server(env=env), start_server(env=env)
    alice, bob, carol, room, side = await _rooms(users)
    a = await connect(a_srv, alice, {room: 2})

    async def bob_presence(timeout, until=None):
        """Bob's presence frames at `a` for `timeout` s, or until status `until`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        out = []
        with contextlib.suppress(TimeoutError):
            while loop.time() < deadline and (until is None or until not in out):
                f = await a.recv(max(0.01, deadline - loop.time()))
                if f["type"] == "presence" and f.get("user_id") == bob.id:
                    out.append(f["status"])
        return out

    bob_on_b = await connect(b_srv, bob, {room: 2})
    assert await bob_presence(2.0, until="online") == ["online"]  # from B, through Redis
    bob_on_a = await connect(a_srv, bob, {room: 2})
    await bob_on_a.close()
    # Still online on B: no offline (after A's grace and tick), and no new online.
    assert await bob_presence(0.8) == []
    async with Api(a_srv, alice) as api:
        assert (await api.call("GET", f"/users/{bob.id}"))["presence"] == "online"
        await bob_on_b.close()
        assert await bob_presence(2.0, until="offline") == ["offline"]
        assert (await api.call("GET", f"/users/{bob.id}"))["presence"] == "offline"
    await a.close()


async def test_presence_during_connect_does_not_break_the_socket(start_server, users):
    """A presence frame due while a socket is still being set up (before the
    accept) waits for the accept instead of killing the socket's writer."""
    server = start_server(env={"CHAT_PRESENCE_TICK": "0.001"})  # ticks all the time
    alice, bob, carol, room, side = await _rooms(users)
    for user in (alice, bob, carol, alice, bob):
        ws = await connect(server, user, {})  # connect() waits for `ready`
        await ws.send({"type": "ping"})
        await ws.until("pong")
        await ws.close()
