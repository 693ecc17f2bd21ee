"""Faults in the PostgreSQL + Redis pass: a server process killed while its
clients send, and Redis restarted under connected sockets.

The PostgreSQL restart lives in pg_restart.py (run by hand or by CI; it starts a
private cluster, so it does not restart the machine's shared server). Results
of all three are in README.md.
"""

from __future__ import annotations

import asyncio
import signal

import pytest
import websockets
from asgiref.sync import sync_to_async

from bench.env import PrivateRedis
from chatserver.chat import actions
from tests.conftest import requires_redis
from tests.realtime.helpers import Api, collect, connect

from .tools import Sender

pytestmark = [pytest.mark.live, pytest.mark.redis, requires_redis]


def assert_exactly_once(history: list[dict], senders: list[Sender]) -> None:
    bodies = [m["body"] for m in history]
    for s in senders:
        assert len(s.acked) == s.count, f"{s.tag}: only {len(s.acked)} acked"
        mine = [b for b in bodies if b.startswith(f"{s.tag} ")]
        assert sorted(mine) == sorted(f"{s.tag} {i}" for i in range(s.count)), \
            f"{s.tag}: lost or duplicated"
        ids = {m["id"] for m in history}
        assert set(s.acked.values()) <= ids  # every ack names a stored message
    seqs = [m["seq"] for m in history]
    assert seqs == sorted(set(seqs))


async def _room(users, n_members: int = 2):
    people = await users(*[f"f{i}" for i in range(n_members)])
    room = await sync_to_async(actions.create_room)(actor=people[0], name="faults")
    await sync_to_async(actions.invite)(actor=people[0], room_id=room.id,
                                        user_ids=[p.id for p in people[1:]])
    return people, room.id


async def test_killed_server_process_clients_reconnect_to_the_other(start_server, users):
    a_srv, b_srv = start_server(), start_server()
    (alice, bob, carol), room = await _room(users, 3)
    last = 3  # created + two joins
    alice_ws = await connect(a_srv, alice, {room: last})
    carol_ws = await connect(a_srv, carol, {room: last})  # only reads
    bob_ws = await connect(b_srv, bob, {room: last})
    a, b = Sender("a", room, 100), Sender("b", room, 80)

    async def kill_a_midway() -> None:
        while len(a.acked) < 30:
            await asyncio.sleep(0.01)
        a_srv.proc.send_signal(signal.SIGKILL)
        a_srv.proc.wait(5)

    await asyncio.gather(a.send_all(alice_ws, pace=0.002), b.send_all(bob_ws, pace=0.002),
                         kill_a_midway())
    assert 30 <= len(a.acked) < a.count  # the kill did cut alice off mid-run
    # Alice and carol reconnect to B and resume from the last seq they saw.
    carol_seen = [f for f in carol_ws.frames if f.get("room") == room and "seq" in f]
    carol_last = carol_seen[-1]["seq"] if carol_seen else last
    alice_ws = await connect(b_srv, alice, {room: last})
    carol_ws2 = await connect(b_srv, carol, {room: carol_last})
    await a.send_all(alice_ws)
    if len(b.acked) < b.count:
        await b.send_all(bob_ws)
    final = last + a.count + b.count
    async with Api(b_srv, bob) as api:
        history = await api.history(room)
    assert_exactly_once(history, [a, b])
    assert history[-1]["seq"] == final
    # Carol's frames before the kill plus those after resuming: every seq once.
    got = carol_seen + await collect(carol_ws2, room, final, start=0, timeout=20)
    assert [f["seq"] for f in got] == list(range(last + 1, final + 1))
    # Bob (on B all along) saw everything live, in order.
    got = await collect(bob_ws, room, final, start=0, timeout=20)
    assert [f["seq"] for f in got] == list(range(last + 1, final + 1))
    for ws in (alice_ws, carol_ws2, bob_ws):
        await ws.close()


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path).start()
    yield server
    server.stop()


async def test_redis_restarted_sockets_recover_and_resume(start_server, users, private_redis):
    env = {"REDIS_URL": private_redis.url}
    a_srv, b_srv = start_server(env=env), start_server(env=env)
    (alice, bob), room = await _room(users, 2)
    last = 2
    alice_ws = await connect(a_srv, alice, {room: last})
    bob_ws = await connect(b_srv, bob, {room: last})
    a = Sender("a", room, 120)

    async def restart_redis_midway() -> None:
        while len(a.acked) < 30:
            await asyncio.sleep(0.01)
        private_redis.stop()
        await asyncio.sleep(1.0)
        await asyncio.to_thread(private_redis.start)

    await asyncio.gather(a.send_all(alice_ws, pace=0.01), restart_redis_midway())
    for _ in range(3):  # a socket cut off by the outage reconnects and resends
        if len(a.acked) == a.count:
            break
        alice_ws = await connect(a_srv, alice, {room: last})
        await a.send_all(alice_ws)
    final = last + a.count
    # Bob, on the other process, gets every message (live or caught up from the
    # database), in order, once; or, if his socket was dropped, after resuming.
    try:
        got = await collect(bob_ws, room, final, start=0, timeout=30)
    except websockets.ConnectionClosed:
        seen = [f for f in bob_ws.frames if f.get("room") == room and "seq" in f]
        bob_ws = await connect(b_srv, bob, {room: seen[-1]["seq"] if seen else last})
        got = seen + await collect(bob_ws, room, final, start=0, timeout=30)
    assert [f["seq"] for f in got] == list(range(last + 1, final + 1))
    async with Api(b_srv, bob) as api:
        assert_exactly_once(await api.history(room), [a])
    # Live again both ways after the restart.
    more = Sender("after", room, 5)
    await more.send_all(bob_ws)
    got = await collect(alice_ws, room, final + 5, start=0, timeout=20)
    assert [f["seq"] for f in got][-5:] == list(range(final + 1, final + 6))
    for ws in (alice_ws, bob_ws):
        await ws.close()
