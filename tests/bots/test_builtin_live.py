"""Every built-in bot in a real server process (the default CHAT_BOTS), driven over
HTTP and a real WebSocket: one end-to-end flow per bot. The detailed flows are
in the harness tests next to this file."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import date, time
from zoneinfo import ZoneInfo

import httpx
import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from bots.builtin.models import (
    Incident,
    Page,
    Reminder,
    Rotation,
    RotationMember,
    RunbookAction,
    StatusEndpoint,
)
from chatserver.accounts.models import Role
from chatserver.chat.models import Message
from tests.integrations.test_alerts import ALERTMANAGER
from tests.realtime.helpers import Api, connect, send_and_ack

from .test_live import _bot_message, _ephemeral, _user

pytestmark = [pytest.mark.live]


@pytest.fixture(autouse=True)
async def _close_worker_connections():
    yield
    await sync_to_async(connections.close_all)()


async def _world(server, *names: str, bots: tuple[str, ...]):
    users = [await sync_to_async(_user)(n) for n in names]
    async with Api(server, users[0]) as api:
        known = {b["username"]: b for b in (await api.call("GET", "/bots"))["results"]}
        room = (await api.call("POST", "/rooms", json={"name": "ops"}))["id"]
        for other in users[1:]:
            await api.invite(room, other.id)
        for name in bots:
            await api.call("PUT", f"/rooms/{room}/bots/{known[name]['id']}")
    ws = await connect(server, users[0], {room: 0})
    return users, room, ws


def _rotation(room_id, *users):
    rot = Rotation.objects.create(name="primary", starts_on=date(2024, 1, 1), handoff=time(9),
                                  room_id=room_id)
    for i, u in enumerate(users):
        RotationMember.objects.create(rotation=rot, user=u, position=i)
    return rot


async def test_default_bots_are_all_loaded(live):
    user = await sync_to_async(_user)("ann")
    async with Api(live, user) as api:
        names = {b["username"] for b in (await api.call("GET", "/bots"))["results"]}
    assert {"help", "oncall", "incident", "alerts", "remind", "poll", "runbook", "deploy",
            "status"} <= names


async def test_oncall_who_page_and_mention(live):
    (ann, ben), room, ws = await _world(live, "ann", "ben", bots=("oncall",))
    await sync_to_async(_rotation)(room, ben)
    await send_and_ack(ws, room, "@oncall who", "w1")
    await _bot_message(ws, room, "**primary**: @ben until")
    await send_and_ack(ws, room, "db is on fire @oncall-primary", "m1")
    frame = await _bot_message(ws, room, "Page #")
    assert "for @ben (on call for `primary`)" in frame["message"]["body"]
    assert frame["message"]["thread_id"] is not None
    page = await sync_to_async(Page.objects.get)()
    assert page.target_id == ben.id
    for _ in range(100):  # the DM is written just after the room post
        dm = await sync_to_async(lambda: list(Message.objects.filter(
            room__visibility="direct", room__memberships__user=ben,
            author__username="oncall").values_list("body", flat=True)))()
        if dm:
            break
        await asyncio.sleep(0.05)
    assert any("db is on fire" in body for body in dm)
    await ws.close()


async def test_incident_declare_over_the_socket(live):
    (ann,), room, ws = await _world(live, "ann", bots=("incident",))
    await send_and_ack(ws, room, "@incident declare sev2 checkout down", "i1")
    frame = await _bot_message(ws, room, "(SEV2) declared: checkout down")
    inc = await sync_to_async(Incident.objects.get)()
    assert f"#inc-{inc.id}" in frame["message"]["body"]
    async with Api(live, ann) as api:
        history = await api.history(inc.room_id)
        pins = await api.pins(inc.room_id)
    assert any("Severity **SEV2**" in m["body"] for m in history)
    # The summary is pinned by the bot, as the room's pins list shows it.
    assert [m["id"] for m in pins] == [inc.summary_message_id]
    assert "Severity **SEV2**" in pins[0]["body"] and pins[0]["author"]["username"] == "incident"
    assert pins[0]["pinned_by"] == pins[0]["author"]["id"]
    await ws.close()


async def test_alerts_ack_over_the_socket(live):
    (ann,), room, ws = await _world(live, "ann", bots=("alerts",))
    async with Api(live, ann) as api:
        hook = await api.call("POST", f"/rooms/{room}/webhooks",
                              json={"name": "AM", "kind": "incoming"})
    async with httpx.AsyncClient(base_url=live.url) as client:
        r = await client.post(f"/hooks/{hook['token']}/alertmanager",
                              content=json.dumps(ALERTMANAGER),
                              headers={"Content-Type": "application/json"})
        assert r.status_code == 200, r.text
    alert = await _bot_message(ws, room, "FIRING")
    await send_and_ack(ws, room, "@alerts list", "a1")
    listing = await _bot_message(ws, room, "firing · **HighLatency")
    alert_id = int(listing["message"]["body"].split("#")[1].split()[0])
    await send_and_ack(ws, room, f"@alerts ack {alert_id}", "a2")
    first = await _bot_message(ws, room, "acked by")  # the alert, edited, and a thread note
    second = await _bot_message(ws, room, "acked by")
    assert {f["type"] for f in (first, second)} == {"message.new", "message.edited"}
    assert alert["message"]["id"] in {f["message"]["thread_id"] for f in (first, second)}
    await ws.close()


async def test_remind_over_the_socket(live):
    (ann,), room, ws = await _world(live, "ann", bots=("remind",))
    await send_and_ack(ws, room, "@remind #ops in 2h stand-up", "r1")
    await _bot_message(ws, room, "I will remind #ops")
    await send_and_ack(ws, room, "@remind me sometime", "r2")
    await _ephemeral(ws, "Say when")
    assert await sync_to_async(Reminder.objects.filter(room_id=room).count)() == 1
    async with Api(live, ann) as api:  # the caller's zone reads "at 17:00"
        me = await api.call("PATCH", "/users/me", json={"timezone": "Asia/Tokyo"})
        assert me["timezone"] == "Asia/Tokyo"
    await send_and_ack(ws, room, "@remind me at 17:00 don't forget the tea", "r3")
    await _bot_message(ws, room, "17:00 JST")
    reminder = await sync_to_async(Reminder.objects.get)(room=None)
    assert reminder.tz == "Asia/Tokyo" and reminder.text == "don't forget the tea"
    assert reminder.due_at.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%H:%M") == "17:00"
    await ws.close()


async def test_poll_over_the_socket(live):
    (ann, ben), room, ws = await _world(live, "ann", "ben", bots=("poll",))
    await send_and_ack(ws, room, "@poll new Lunch? | pizza | sushi", "p1")
    card = await _bot_message(ws, room, "📊 **Poll #1: Lunch?**")
    async with Api(live, ben) as api:
        await api.post(room, "@poll vote 1 sushi")
    edited = await _bot_message(ws, room, "2. sushi — 1")
    assert edited["type"] == "message.edited"
    assert edited["message"]["id"] == card["message"]["id"]
    await ws.close()


async def test_runbook_streams_output_over_the_socket(live):
    (ann,), room, ws = await _world(live, "ann", bots=("runbook",))
    await sync_to_async(RunbookAction.objects.create)(
        name="hello", argv=[sys.executable, "-c", "import sys; print('hi', sys.argv[1])",
                            "{who}"], params={"who": {"type": "str"}})
    await send_and_ack(ws, room, "@runbook run hello who=world", "b1")
    started = await _bot_message(ws, room, "▶️ `hello`")
    assert started["type"] == "message.new"
    done = await _bot_message(ws, room, "✅ exit 0")
    assert done["type"] == "message.edited" and "hi world" in done["message"]["body"]
    await send_and_ack(ws, room, "@runbook run hello who=-rf", "b2")
    await _ephemeral(ws, "is refused")
    await ws.close()


async def test_deploy_lock_and_approval_over_the_socket(live):
    (ann, ben), room, ws = await _world(live, "ann", "ben", bots=("deploy",))
    await sync_to_async(RunbookAction.objects.create)(
        name="deploy", argv=[sys.executable, "-c", "import sys; print('shipping', sys.argv[1])",
                             "{service}"], params={"service": {"type": "str"}})
    await send_and_ack(ws, room, "@deploy lock staging", "d1")
    await _bot_message(ws, room, "🔒 staging locked by @ann")
    await send_and_ack(ws, room, "@deploy deploy api production", "d2")
    card = await _bot_message(ws, room, "Approval needed")
    run_id = int(card["message"]["body"].split("request #")[1].split(":")[0])
    await sync_to_async(type(ann).objects.filter(id=ben.id).update)(role=Role.MEMBER)
    async with Api(live, ben) as api:
        await api.post(room, f"@deploy approve {run_id}")
    await _bot_message(ws, room, "🚀 Deployed api@main to production.")
    await ws.close()


async def test_status_check_over_the_socket(live):
    (ann,), room, ws = await _world(live, "ann", bots=("status",))
    await sync_to_async(StatusEndpoint.objects.create)(name="local", url=f"{live.url}/healthz")
    await send_and_ack(ws, room, "@status", "s1")
    frame = await _bot_message(ws, room, "**Status**: 0/1 up")
    assert "refused" in frame["message"]["body"]  # loopback is not allowed by default
    await ws.close()
