"""Bad input on the socket: a clear error frame, the socket stays usable, nothing half-written."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

import httpx
import pytest
from asgiref.sync import sync_to_async

from chatserver.chat import actions
from chatserver.realtime.consumer import FrameBudget
from tests.wsclient import WS

from .helpers import Api, collect, connect, counts, recv_skip, send_and_ack, wait_closed

pytestmark = pytest.mark.live


async def _room(users):
    alice, bob = await users("alice", "bob")
    room = await sync_to_async(actions.create_room)(actor=alice, name="inputs")
    await sync_to_async(actions.invite)(actor=alice, room_id=room.id, user_ids=[bob.id])
    return alice, bob, room.id  # seq 2


def err(code: str, message: str, **extra) -> dict:
    return {"type": "error", "code": code, "message": message, **extra}


BAD_BODY = "body must be a string."


async def test_malformed_frames_get_error_frames_and_the_socket_stays_usable(live, users):
    alice, bob, room = await _room(users)
    a = await connect(live, alice, {room: 2})
    b = await connect(live, bob, {room: 2})
    before = await counts()
    frame_msg = "A frame is a JSON object with a string 'type'."
    cases: list[tuple[str | bytes | dict, dict]] = [
        ("{not json", err("invalid_json", "The frame is not valid JSON.")),
        ("", err("invalid_json", "The frame is not valid JSON.")),
        ("[1, 2]", err("bad_frame", frame_msg)),
        ('"message.send"', err("bad_frame", frame_msg)),
        ("42", err("bad_frame", frame_msg)),
        ("null", err("bad_frame", frame_msg)),
        ("{}", err("bad_frame", frame_msg)),
        ({"type": 5}, err("bad_frame", frame_msg)),
        ({"type": None, "room": room}, err("bad_frame", frame_msg)),
        ({"type": "nope"}, err("unknown_type", "Unknown frame type 'nope'.")),
        ({"type": "x" * 100}, err("unknown_type", f"Unknown frame type {'x' * 40!r}.")),
        (b"\x00\x01binary", err("bad_frame", "Binary frames are not supported; send JSON text.")),
        (json.dumps({"type": "message.send", "room": room, "body": "y" * 70_000,
                     "client_msg_id": "big"}),
         err("too_large", "Frames are at most 65536 bytes.")),
        ({"type": "message.send", "room": 987654, "body": "to nowhere", "client_msg_id": "c1"},
         err("not_found", "Room not found.", ref="c1")),
        ({"type": "message.send", "room": room, "body": "z" * 10_001, "client_msg_id": "c2"},
         err("too_large", "Message bodies are at most 10000 characters.", ref="c2",
             fields={"body": "too long"})),
        ({"type": "message.send", "room": room, "body": "", "client_msg_id": "c3"},
         err("invalid", "body must not be empty.", ref="c3", fields={"body": "empty"})),
        ({"type": "message.send", "room": room, "body": " \n\t "},
         err("invalid", "body must not be empty.", fields={"body": "empty"})),
        ({"type": "message.send", "room": room},
         err("invalid", BAD_BODY, fields={"body": "must be a string"})),
        ({"type": "message.send", "room": room, "body": ["a"]},
         err("invalid", BAD_BODY, fields={"body": "must be a string"})),
        ({"type": "message.send", "room": room, "body": "nul \x00"},
         err("invalid", "body must not contain NUL.", fields={"body": "contains NUL"})),
        ({"type": "message.send", "body": "no room"},
         err("invalid", "room must be a room id.", fields={"room": "invalid"})),
        ({"type": "message.send", "room": "general", "body": "x"},
         err("invalid", "room must be a room id.", fields={"room": "invalid"})),
        ({"type": "message.send", "room": True, "body": "x"},
         err("invalid", "room must be a room id.", fields={"room": "invalid"})),
        ({"type": "message.send", "room": room, "body": "x", "client_msg_id": "\n" * 3},
         err("invalid", "client_msg_id must be a printable string of at most 64 characters.",
             ref="\n\n\n", fields={"client_msg_id": "invalid"})),
        ({"type": "message.send", "room": room, "body": "x", "thread_id": "7"},
         err("invalid", "thread_id must be a message id.", fields={"thread_id": "invalid"})),
        ({"type": "message.send", "room": room, "body": "x", "thread_id": 123456789},
         err("not_found", "Thread not found.", fields={"thread_id": "not found"})),
        ({"type": "resume", "rooms": [room]},
         err("invalid", "resume needs rooms: {room_id: seq} and an integer user_seq.")),
        ({"type": "resume", "rooms": {str(room): -1}}, err("invalid", f"Bad seq for room {room}.")),
        ({"type": "resume", "rooms": {"abc": 1}}, err("invalid", "Bad room id 'abc'.")),
        ({"type": "typing", "room": 987654}, err("not_found", "Room not found.")),
        ({"type": "read", "room": room, "seq": "last"},
         err("invalid", "seq must be a non-negative integer.", fields={"seq": "invalid"})),
        ({"type": "auth", "token": alice.raw_token}, err("bad_frame", "Already signed in.")),
    ]
    for frame, expected in cases:
        if isinstance(frame, bytes):
            await a.conn.send(frame)
        else:
            await a.send(frame)
        got = await recv_skip(a)
        assert got == expected, frame if len(str(frame)) < 200 else str(frame)[:200]
        await a.send({"type": "ping"})
        assert await recv_skip(a) == {"type": "pong"}
    # Nothing was written, and nothing reached the other member.
    assert await counts() == before
    await asyncio.sleep(0.2)
    assert [f for f in await b.drain(0.2) if f["type"] != "presence"] == []
    # Still usable for real work.
    ack = await send_and_ack(a, room, "all good", "ok-1")
    assert (ack["created"], ack["message"]["seq"]) == (True, 3)
    assert [f["message"]["body"] for f in await collect(b, room, 3)] == ["all good"]
    assert await counts() == dict(before, messages=before["messages"] + 1,
                                  room_events=before["room_events"] + 1)
    await a.close()
    await b.close()


async def test_invalid_utf8_closes_only_that_socket_with_1007(live, users):
    alice, bob, room = await _room(users)
    a = await connect(live, alice, {room: 2})
    b = await connect(live, bob, {room: 2})
    await a.conn.send(b'{"type": "ping", "x": "\xff\xfe"}', text=True)
    assert await wait_closed(a) == 1007
    # The server and the other socket are fine.
    async with httpx.AsyncClient() as c:
        assert (await c.get(f"{live.url}/healthz")).json() == {"ok": True}
    await b.send({"type": "ping"})
    await b.until("pong")
    ack = await send_and_ack(b, room, "still here", "b-1")
    assert ack["message"]["seq"] == 3
    a2 = await connect(live, alice, {room: 2})
    assert [f["message"]["body"] for f in await collect(a2, room, 3, start=0)] == ["still here"]
    await a2.close()
    await b.close()


async def test_frame_over_the_server_max_size_closes_with_1009(live, users):
    alice, bob, room = await _room(users)
    a = await connect(live, alice, {room: 2})
    b = await connect(live, bob, {room: 2})
    before = await counts()
    await a.send(json.dumps({"type": "message.send", "room": room, "body": "q" * (1 << 20)}))
    assert await wait_closed(a) == 1009
    await b.send({"type": "ping"})
    await b.until("pong")
    assert await counts() == before
    await b.close()


async def test_frame_flood_is_rate_limited_then_closed_with_4429(start_server, users):
    server = start_server(env={"CHAT_FRAME_RATE": "5/1"})
    alice, bob, room = await _room(users)
    # A short burst: refused frames get rate_limited with retry_after, then it recovers.
    a = await WS.connect(server, alice.raw_token)
    # 11 frames fall in one or two 1-second windows of 5: 1 to 6 are refused, and
    # at most one window is over the budget (no second strike).
    for _ in range(11):
        await a.send({"type": "ping"})
    answers = [await recv_skip(a) for _ in range(11)]
    limited = [f for f in answers if f["type"] == "error"]
    assert 1 <= len(limited) <= 6
    assert all(set(f) == {"type", "code", "message", "retry_after"} for f in limited)
    assert all((f["code"], f["message"]) == ("rate_limited", "Too many frames.")
               for f in limited)
    assert all(0 < f["retry_after"] <= 1.0 for f in limited)
    assert [f for f in answers if f["type"] != "error"] == [{"type": "pong"}] * (
        11 - len(limited))
    await asyncio.sleep(limited[-1]["retry_after"] + 0.05)
    # The next window: exactly 5 frames pass, the 6th is refused.
    for _ in range(6):
        await a.send({"type": "ping"})
    answers = [await recv_skip(a) for _ in range(6)]
    assert [f["type"] for f in answers] == ["pong"] * 5 + ["error"]
    await a.close()

    # A client that keeps flooding, window after window, is closed with 4429.
    b = await WS.connect(server, bob.raw_token)
    loop = asyncio.get_running_loop()
    t0 = loop.time()

    async def flood():
        import websockets

        try:
            while True:
                await b.send({"type": "ping"})
                await asyncio.sleep(0.01)
        except websockets.ConnectionClosed:
            pass

    task = asyncio.create_task(flood())
    code = await wait_closed(b, timeout=8)
    elapsed = loop.time() - t0
    await task
    assert code == 4429
    assert 1.0 < elapsed < 4.5  # the third window in a row over the budget
    assert any(f.get("code") == "rate_limited" for f in b.frames)
    # The server is fine and other sockets work.
    c = await connect(server, alice, {room: 2})
    async with Api(server, alice) as api:
        await api.post(room, "after the flood")
    assert [f["message"]["body"] for f in await collect(c, room, 3, start=0)] == [
        "after the flood"]
    await c.close()


def test_frame_budget_strikes_count_only_consecutive_windows(monkeypatch):
    """The 4429 close is for a client over the budget in 3 windows *in a row*."""
    import chatserver.realtime.consumer as consumer

    now = [100.0]
    monkeypatch.setattr(consumer, "time", SimpleNamespace(monotonic=lambda: now[0]))
    budget = FrameBudget((2, 1))

    def window(frames: int) -> list[float | None]:
        out = [budget.take() for _ in range(frames)]
        now[0] += 1.0
        return out

    assert window(3) == [None, None, 1.0]
    assert budget.strikes == 1
    window(0)  # a quiet window in between
    window(3)
    assert budget.strikes == 1
    window(1)  # within the budget
    window(3)
    assert budget.strikes == 1
    window(3)
    window(3)
    assert budget.strikes == 3
