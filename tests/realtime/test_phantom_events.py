"""An event on Redis that the database never committed neither loops nor blocks real ones."""

import json
import os
import time

import httpx
import pytest
import redis
from asgiref.sync import sync_to_async

from chatserver.chat import actions
from chatserver.realtime.hub import channel_prefix
from tests.conftest import requires_redis
from tests.wsclient import WS

pytestmark = [pytest.mark.live, requires_redis]


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def test_phantom_event_is_dropped_and_real_events_still_flow(live, make_user):
    alice = await sync_to_async(make_user)("alice")
    room = await sync_to_async(actions.create_room)(actor=alice, name="phantoms")
    ws = await WS.connect(live, alice.raw_token)
    await ws.resume({room.id: 1})

    phantom = json.dumps({"type": "message.new", "room": room.id, "seq": 40,
                          "message": {"id": 999999, "body": "ghost"}})
    redis.Redis.from_url(os.environ["REDIS_URL"]).publish(
        f"{channel_prefix()}room:{room.id}", f"{room.id}|40|message.new|0|{phantom}")
    cpu_before = _cpu_seconds(live.proc.pid)
    time.sleep(1.5)
    # Idle apart from dropping the phantom: not spinning on replays.
    assert _cpu_seconds(live.proc.pid) - cpu_before < 0.5

    async with httpx.AsyncClient(base_url=live.url) as c:
        r = await c.post(f"/api/v1/rooms/{room.id}/messages", json={"body": "real"},
                         headers={"Authorization": f"Bearer {alice.raw_token}"})
    assert r.status_code == 201
    frame = await ws.until("message.new")
    assert (frame["seq"], frame["message"]["body"]) == (2, "real")
    assert not any(f.get("message", {}).get("body") == "ghost" for f in ws.frames)
    await ws.close()
