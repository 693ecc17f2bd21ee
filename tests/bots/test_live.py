"""Bots in real server processes, driven over HTTP and a real WebSocket."""

from __future__ import annotations

import asyncio
import time

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from bots.models import BotRun, BotValue
from bots.runtime import runtime
from chatserver.accounts.models import ApiToken, Role, User
from tests.conftest import requires_postgres, requires_redis
from tests.realtime.helpers import Api, connect, send_and_ack

from .sample import DeployBot

pytestmark = [pytest.mark.live]

BOTS = ",".join(["tests.bots.sample:DeployBot", "tests.bots.sample:HangBot",
                 "tests.bots.sample:CrashBot", "bots.builtin.help:HelpBot"])


@pytest.fixture(autouse=True)
async def _close_worker_connections():
    yield
    await sync_to_async(connections.close_all)()


def _user(name: str, role: str = Role.MEMBER) -> User:
    user = User(username=name, display_name=name.title(), role=role)
    user.set_unusable_password()
    user.save()
    user.raw_token = ApiToken.issue(user)[1]  # type: ignore[attr-defined]
    return user


async def _setup(server, *names: str):
    users = [await sync_to_async(_user)(n) for n in names]
    async with Api(server, users[0]) as api:
        bots = {b["username"]: b for b in (await api.call("GET", "/bots"))["results"]}
        room = (await api.call("POST", "/rooms", json={"name": "ops"}))["id"]
        for other in users[1:]:
            await api.invite(room, other.id)
        for name in ("deploy", "hangy", "crashy"):
            await api.call("PUT", f"/rooms/{room}/bots/{bots[name]['id']}")
    return users, room, bots


def _is_bot_frame(frame: dict, room: int) -> bool:
    return frame.get("type") in ("message.new", "message.edited") and frame["room"] == room \
        and frame["message"]["author"]["is_bot"]


async def _bot_messages(ws, room: int, expected: list[str], timeout: float = 15.0) -> list[dict]:
    """Bot message frames (in any order, including ones already received while
    waiting for acks) until each expected text was seen; each frame counts once."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    found: list[dict] = []
    missing = list(expected)
    i = getattr(ws, "bot_cursor", 0)
    while missing:
        while i >= len(ws.frames):
            try:
                await ws.recv(max(0.01, deadline - loop.time()))
            except TimeoutError:
                raise AssertionError(f"still missing {missing}; frames {ws.frames[-8:]}") \
                    from None
        frame = ws.frames[i]
        i += 1
        if not _is_bot_frame(frame, room):
            continue
        for text in missing:
            if text in frame["message"]["body"]:
                missing.remove(text)
                found.append(frame)
                break
    return found


async def _bot_message(ws, room: int, contains: str, timeout: float = 15.0) -> dict:
    frame = (await _bot_messages(ws, room, [contains], timeout))[0]
    ws.bot_cursor = ws.frames.index(frame) + 1
    return frame


async def _ephemeral(ws, contains: str, timeout: float = 15.0) -> dict:
    """The first message.ephemeral frame holding `contains` (received before or after)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    i = 0
    while True:
        while i >= len(ws.frames):
            try:
                await ws.recv(max(0.01, deadline - loop.time()))
            except TimeoutError:
                raise AssertionError(f"no ephemeral with {contains!r}: {ws.frames[-8:]}") \
                    from None
        frame = ws.frames[i]
        i += 1
        if frame.get("type") == "message.ephemeral" and contains in frame["message"]["body"]:
            return frame


async def test_commands_answers_and_ephemerals_over_the_socket(start_server):
    server = start_server(env={"CHAT_BOTS": BOTS})
    (alice,), room, bots = await _setup(server, "alice")
    ws = await connect(server, alice, {room: 0})
    await send_and_ack(ws, room, "@deploy deploy api staging", "c1")
    new = await _bot_message(ws, room, "Deploying api@main to staging")
    assert new["type"] == "message.new"
    edited = await _bot_message(ws, room, "Deployed api@main to staging.")
    assert edited["type"] == "message.edited"
    assert edited["message"]["id"] == new["message"]["id"]
    await send_and_ack(ws, room, "@deploy deploy api prod", "c2")
    eph = await _ephemeral(ws, "must be one of staging, production")
    assert eph["room"] == room
    assert eph["message"]["author"]["username"] == "deploy" and "seq" not in eph
    await send_and_ack(ws, room, "@help", "c3")
    eph = await _ephemeral(ws, "**Bots**")
    assert "@deploy" in eph["message"]["body"] and "@hangy" in eph["message"]["body"]
    async with Api(server, alice) as api:
        history = await api.history(room)
    assert [m["body"] for m in history if m["author"]["is_bot"]] == [
        "Deployed api@main to staging."]  # ephemerals are never stored
    await ws.close()


async def test_crashing_and_hanging_bots_do_not_block_the_socket_or_other_bots(start_server):
    server = start_server(env={"CHAT_BOTS": BOTS})
    (alice,), room, bots = await _setup(server, "alice")
    ws = await connect(server, alice, {room: 0})
    started = time.monotonic()
    await send_and_ack(ws, room, "@hangy sleep", "h1")
    await send_and_ack(ws, room, "@hangy asleep", "h2")
    await send_and_ack(ws, room, "@crashy boom", "b1")
    await ws.send({"type": "ping"})
    await ws.until("pong", 2)  # the socket path is not waiting for any bot
    await send_and_ack(ws, room, "@deploy status", "s1")
    seen = await _bot_messages(ws, room, ["status of all: green", "`boom` failed",
                                          "`sleep` timed out after 0.5 s",
                                          "`asleep` timed out after 0.5 s"])
    assert not any("secret" in f["message"]["body"] for f in seen)
    assert time.monotonic() - started < 10
    await send_and_ack(ws, room, "@hangy ping", "p1")
    await _bot_message(ws, room, "pong")
    await ws.close()


async def test_approval_flow_over_the_socket(start_server):
    server = start_server(env={"CHAT_BOTS": BOTS})
    (alice, bob), room, bots = await _setup(server, "alice", "bob")
    await sync_to_async(User.objects.filter(id__in=[alice.id, bob.id]).update)(role=Role.ADMIN)
    a = await connect(server, alice, {room: 0})
    b = await connect(server, bob, {room: 0})
    await send_and_ack(a, room, "@deploy deploy web production", "d1")
    card = await _bot_message(b, room, "Approval needed")
    run_id = int(card["message"]["body"].split("request #")[1].split(":")[0])
    await send_and_ack(a, room, f"@deploy approve {run_id}", "d2")
    await _ephemeral(a, "cannot approve your own")
    await send_and_ack(b, room, f"@deploy approve {run_id}", "d3")
    await _bot_message(b, room, "Deployed web@main to production.")
    for _ in range(100):  # the run row is finished just after the last edit
        run = await sync_to_async(BotRun.objects.get)(id=run_id)
        if run.status != "running":
            break
        await asyncio.sleep(0.05)
    assert run.approved_by_id == bob.id and run.status == "ok"
    await a.close()
    await b.close()


@requires_redis
async def test_two_processes_answer_each_command_exactly_once(live, start_server):
    one = start_server(env={"CHAT_BOTS": BOTS})
    two = start_server(env={"CHAT_BOTS": BOTS})
    (alice,), room, bots = await _setup(one, "alice")
    watcher = await connect(two, alice, {room: 0})
    posted = []
    async with Api(one, alice) as api_one, Api(two, alice) as api_two:
        for i in range(10):
            api = api_one if i % 2 == 0 else api_two
            posted.append(await api.post(room, "@deploy count"))
    answers = []
    while len(answers) < 10:
        frame = await _bot_message(watcher, room, "count is", timeout=20)
        answers.append(frame["message"]["body"])
    assert sorted(answers, key=lambda t: int(t.split()[-1])) == [
        f"count is {i}" for i in range(1, 11)]
    # Hand every message to a third runtime (this test process), as a redelivery
    # would: the (message, bot) run row is taken, so nothing runs again.
    await sync_to_async(runtime.use)([DeployBot])
    try:
        for msg in posted:
            await sync_to_async(runtime.handle_message)(msg)
        await sync_to_async(runtime.wait_idle)(10)
    finally:
        await sync_to_async(runtime.use)([])
        runtime._bots = None
    value = await sync_to_async(lambda: BotValue.objects.get(key="count").value)()
    assert value == 10
    runs = await sync_to_async(lambda: BotRun.objects.filter(command="count").count())()
    assert runs == 10
    late = await watcher.drain(1.0)
    assert not [f for f in late if "count is" in f.get("message", {}).get("body", "")]
    await watcher.close()


@requires_postgres
async def test_two_schedulers_run_each_firing_once(start_server):
    """Both processes run a scheduler ticking every 1 s; SKIP LOCKED claims let only one
    of them take each firing, so the count follows the clock, not the process count."""
    env = {"CHAT_BOTS": "tests.bots.sample:TickBot"}
    started = time.monotonic()  # the first scheduler ticks while the second starts
    start_server(env=env)
    start_server(env=env)
    await asyncio.sleep(4.5)

    def counts():
        times = list(BotRun.objects.filter(kind="schedule", command="tick")
                     .order_by("created_at").values_list("created_at", flat=True))
        ticks = BotValue.objects.filter(key="ticks").values_list("value", flat=True).first()
        return times, ticks

    times, ticks = await sync_to_async(counts)()
    runs = len(times)
    elapsed = time.monotonic() - started
    assert 2 <= runs <= elapsed + 1, (runs, elapsed)
    assert ticks is not None and ticks <= runs
    # Each firing is claimed once: a second process running the same firing would
    # start a run within milliseconds of the first; claims are >= 1 s apart.
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) > 0.8, gaps
