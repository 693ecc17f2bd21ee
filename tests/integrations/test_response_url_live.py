"""A slash command answered later, end to end: a real server process calls a
receiver on 127.0.0.1 (allowed by the admin's CHAT_WEBHOOK_ALLOW_NETS), which
answers "200, nothing yet" at once and posts its real answers to the
response_url afterwards, over HTTP, while the caller watches on a WebSocket."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from chatserver.integrations.models import Delivery
from tests.bots.test_live import _bot_message, _ephemeral, _user
from tests.realtime.helpers import Api, connect, send_and_ack

from .receiver import Receiver

pytestmark = [pytest.mark.live]


@pytest.fixture(autouse=True)
async def _close_worker_connections():
    yield
    await sync_to_async(connections.close_all)()


async def test_delayed_answers_reach_the_caller_and_the_room(start_server):
    server = start_server(env={"CHAT_WEBHOOK_ALLOW_NETS": "127.0.0.1/32",
                               "CHAT_WEBHOOK_RESPONSE_USES": "2"})
    receiver = Receiver()
    answered: list[tuple[int, str]] = []

    def answer_later(request: dict) -> None:
        url = request["body"]["response_url"]

        def work() -> None:
            time.sleep(0.3)  # the command's own request is long finished
            for payload in ({"text": "Deploying api: *started*"},
                            {"response_type": "in_channel", "text": "api deployed to staging"},
                            {"response_type": "in_channel", "text": "one too many"}):
                r = httpx.post(url, json=payload, timeout=10)
                answered.append((r.status_code, r.text))

        threading.Thread(target=work, daemon=True).start()

    receiver.answers = [(200, "", 0)]
    receiver.after = answer_later
    try:
        (ann, ben) = [await sync_to_async(_user)(n) for n in ("ann", "ben")]
        async with Api(server, ann) as api:
            room = (await api.call("POST", "/rooms", json={"name": "ops"}))["id"]
            await api.invite(room, ben.id)
            hook = await api.call("POST", f"/rooms/{room}/webhooks", json={
                "name": "Deployer", "kind": "command", "command": "ship",
                "url": receiver.url("/ship")})
        ws_ann = await connect(server, ann, {room: 0})
        ws_ben = await connect(server, ben, {room: 0})
        await send_and_ack(ws_ann, room, "/ship api staging", "s1")

        eph = await _ephemeral(ws_ann, "Deploying api: *started*")
        assert eph["room"] == room and eph["message"]["author"]["id"] == hook["bot"]["id"]
        posted = await _bot_message(ws_ben, room, "api deployed to staging")
        assert posted["type"] == "message.new"
        assert posted["message"]["author"]["id"] == hook["bot"]["id"]
        [req] = receiver.requests
        assert req["body"]["text"] == "api staging" and req["body"]["user_name"] == "ann"
        assert req["body"]["response_url"].startswith(f"{server.url}/hooks/respond/")
        for _ in range(100):
            if len(answered) == 3:
                break
            await asyncio.sleep(0.05)
        assert [code for code, _ in answered] == [200, 200, 410]  # two uses, then used up
        # Only ann saw the ephemeral one; the room has the in_channel one only.
        assert not [f for f in ws_ben.frames if f.get("type") == "message.ephemeral"]
        async with Api(server, ben) as api:
            bodies = [m["body"] for m in await api.history(room)]
        assert bodies == ["/ship api staging", "api deployed to staging"]
        kept = await sync_to_async(lambda: list(Delivery.objects.filter(
            hook_id=hook["id"], format="response").values_list("status", flat=True)))()
        assert kept == ["posted", "posted"]
        await ws_ann.close()
        await ws_ben.close()
    finally:
        receiver.close()
