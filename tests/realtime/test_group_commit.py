"""Group commit through real sockets: concurrent sends from many sockets are
written in shared transactions, and still every send is acked once, every
room's seqs stay gapless, and each sender's messages keep their order."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async

from chatserver.chat import actions
from chatserver.chat.models import Message

from .helpers import collect, connect, counts

pytestmark = pytest.mark.live

SENDERS = 24
EACH = 8


async def test_concurrent_sends_share_commits_and_lose_nothing(live, users):
    people = await users(*[f"gc{i}" for i in range(SENDERS)], "gc-listener")
    senders, listener_user = people[:-1], people[-1]
    room = await sync_to_async(actions.create_room)(actor=listener_user, name="group-commit")
    await sync_to_async(actions.invite)(actor=listener_user, room_id=room.id,
                                        user_ids=[u.id for u in senders])
    await sync_to_async(room.refresh_from_db)()
    start = room.last_seq
    listener = await connect(live, listener_user, {room.id: start})
    sockets = [await connect(live, u, {room.id: start}) for u in senders]
    before = await counts()

    async def send_all(i, ws):
        acks = []
        for n in range(EACH):
            # Everyone sends at once; each socket waits for its ack before the next.
            await ws.send({"type": "message.send", "room": room.id, "body": f"{i}:{n}",
                           "client_msg_id": f"gc-{i}-{n}"})
            acks.append(await ws.until("ack", 20, client_msg_id=f"gc-{i}-{n}"))
        return acks

    results = await asyncio.gather(*(send_all(i, ws) for i, ws in enumerate(sockets)))
    total = SENDERS * EACH
    acked = [a for acks in results for a in acks]
    assert all(a["created"] for a in acked)
    assert sorted(a["message"]["seq"] for a in acked) == list(range(start + 1,
                                                                    start + total + 1))
    for acks in results:  # one sender's messages are in the order it sent them
        seqs = [a["message"]["seq"] for a in acks]
        assert seqs == sorted(seqs)

    got = await collect(listener, room.id, start + total, timeout=30)
    assert [f["seq"] for f in got] == list(range(start + 1, start + total + 1))
    assert {f["message"]["id"] for f in got} == {a["message"]["id"] for a in acked}
    after = await counts()
    assert after["messages"] == before["messages"] + total
    assert after["room_events"] == before["room_events"] + total

    # The sends really were grouped: a batch shares one commit timestamp.
    stamps = await sync_to_async(lambda: list(
        Message.objects.filter(room_id=room.id).values_list("created_at", flat=True)))()
    assert len(set(stamps)) < total
    # Read what the senders were sent (the listener's copy is checked above), so
    # the client's full receive buffer does not hold up the closing handshake.
    await asyncio.gather(*(ws.drain(0.3) for ws in sockets))
    await asyncio.gather(*(ws.close() for ws in (listener, *sockets)))


async def test_concurrent_rest_posts_join_the_group_commit(live, users):
    from .helpers import Api

    people = await users(*[f"gr{i}" for i in range(12)])
    owner = people[0]
    room = await sync_to_async(actions.create_room)(actor=owner, name="rest-group-commit")
    await sync_to_async(actions.invite)(actor=owner, room_id=room.id,
                                        user_ids=[u.id for u in people[1:]])
    await sync_to_async(room.refresh_from_db)()
    start = room.last_seq

    async def post_all(user):
        async with Api(live, user) as api:
            return await asyncio.gather(*(api.post(room.id, f"{user.username} {n}",
                                                   cmid=f"{user.username}-{n}")
                                          for n in range(5)))

    posted = [m for ms in await asyncio.gather(*(post_all(u) for u in people)) for m in ms]
    total = len(people) * 5
    assert sorted(m["seq"] for m in posted) == list(range(start + 1, start + total + 1))
    stamps = await sync_to_async(lambda: list(
        Message.objects.filter(room_id=room.id).values_list("created_at", flat=True)))()
    assert len(stamps) == total
    assert len(set(stamps)) < total  # some posts shared a transaction
