"""Random frames against a real server's /ws/ socket (hypothesis-driven).

Whatever arrives — random JSON values, frames of a known or random type with
random fields, huge numbers, lone surrogates, binary frames — the server must
answer with at most some frames (an `error` is fine, `server_error` is not),
log no error, and keep the socket usable: a ping gets a pong afterwards, and a
valid message.send still gets its ack at the end. The one exception is a text
frame that is not UTF-8: RFC 6455 says to fail that connection (1007), so the
test checks that close code and carries on with a new socket.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatserver.chat import actions
from tests.wsclient import WS

pytestmark = [pytest.mark.live]

TYPES = ["resume", "message.send", "typing", "read", "ping", "auth"]
FIELDS = ["type", "room", "rooms", "seq", "user_seq", "body", "client_msg_id", "thread_id",
          "token"]
CLOSE_INVALID_UTF8 = 1007
DOCUMENTED_CLOSES = {4429}

# Text with lone surrogates too: JSON can carry them as \udXXX escapes.
text = st.text(st.characters(codec=None, categories=None), max_size=40) | st.text(
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3)
huge = st.integers(min_value=-(2**80), max_value=2**80)
scalars = st.none() | st.booleans() | huge | st.integers(-3, 50) | st.floats() | text
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(text, inner, max_size=4), max_leaves=12)


def frame_strategy(room_id: int) -> st.SearchStrategy[tuple[str, Any]]:
    """(kind, payload): kind "text" is a str frame, "bytes" binary, "badutf8" raw text."""
    field_value = json_values | st.just(room_id) | st.just({str(room_id): 0})
    typed = st.fixed_dictionaries(
        {"type": st.sampled_from(TYPES) | text},
        optional={name: field_value for name in FIELDS if name != "type"},
    )
    as_text = (typed | json_values).map(
        lambda v: json.dumps(v, allow_nan=True))
    return st.one_of(
        as_text.map(lambda s: ("text", s)),
        typed.map(lambda v: ("text", json.dumps(v)[:-1])),  # truncated JSON
        st.binary(max_size=64).map(lambda b: ("bytes", b)),
        st.integers(500, 20_000).map(lambda n: ("text", "[" * n + "]" * n)),  # deep nesting
        st.sampled_from([f'{{"type":"message.send","room":{room_id},"body":"a\\u0000b"}}',
                         '{"type":"ping","x":"\\udc00"}', "1e999999", "-0", '"\\ud800"'])
        .map(lambda s: ("text", s)),
        st.binary(min_size=1, max_size=16).map(lambda b: ("badutf8", b"\xff" + b)),
    )


class Driver:
    """One socket kept across hypothesis examples, on one private event loop."""

    def __init__(self, server, token: str, room_id: int):
        self.server, self.token, self.room_id = server, token, room_id
        self.loop = asyncio.new_event_loop()
        self.ws: WS | None = None
        self.sends = 0

    def run(self, coro):
        try:
            return self.loop.run_until_complete(coro)
        except BaseException:
            # Start the next (replayed) example on a clean socket.
            if self.ws is not None:
                self.loop.run_until_complete(self.ws.conn.close())
                self.ws = None
            raise

    async def fresh(self) -> WS:
        if self.ws is not None:
            await self.ws.conn.close()
        self.ws = await WS.connect(self.server, self.token)
        return self.ws

    async def ping(self) -> list[dict[str, Any]]:
        """Ping and wait for the pong; return every frame that came before it."""
        assert self.ws is not None
        await self.ws.send({"type": "ping"})
        got = []
        while True:
            frame = await self.ws.recv(10)
            if frame.get("type") == "pong":
                return got
            got.append(frame)

    async def check(self, kind: str, payload: Any) -> None:
        ws = self.ws or await self.fresh()
        if kind == "badutf8":
            await ws.conn.send(payload, text=True)
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:  # room events of earlier sends may still be on the way
                    await ws.recv(10)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == CLOSE_INVALID_UTF8
            await self.fresh()
            await self.ping()
            return
        await ws.conn.send(payload)
        try:
            before_pong = await self.ping()
        except websockets.ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd is not None else None
            assert code in DOCUMENTED_CLOSES, f"closed with {code} after the frame {payload!r}"
            await self.fresh()
            return
        except TimeoutError:
            raise AssertionError(f"no pong after the frame {payload!r}") from None
        for frame in before_pong:
            assert isinstance(frame, dict) and isinstance(frame.get("type"), str), frame
            if frame["type"] == "error":
                assert frame.get("code") != "server_error", (payload, frame)
                assert isinstance(frame.get("message"), str) and frame["message"], frame

    async def valid_send(self) -> None:
        ws = self.ws or await self.fresh()
        cmid = f"ok-{uuid.uuid4()}"
        await ws.send({"type": "message.send", "room": self.room_id, "body": "still here",
                       "client_msg_id": cmid})
        ack = await ws.until("ack", 10, client_msg_id=cmid)
        assert ack["message"]["body"] == "still here"

    def close(self) -> None:
        if self.ws is not None:
            self.run(self.ws.conn.close())
        self.loop.close()


@pytest.fixture
def driver(live):
    from tests.realtime.conftest import _quick_user

    alice = _quick_user("fuzz_alice")
    bob = _quick_user("fuzz_bob")
    room = actions.create_room(actor=alice, name="frames")
    actions.invite(actor=alice, room_id=room.id, user_ids=[bob.id])
    d = Driver(live, alice.raw_token, room.id)
    log_start = live.log_path.stat().st_size if live.log_path else 0
    yield d
    d.close()
    if live.log_path:
        with live.log_path.open("rb") as f:
            f.seek(log_start)
            logged = f.read().decode(errors="replace")
        bad = [line for line in logged.splitlines()
               if any(m in line for m in (" ERROR ", "ERROR:", "Traceback", "CRITICAL"))]
        assert bad == [], "\n".join(bad[:20])


def test_random_frames_leave_the_socket_usable(driver):
    strategy = frame_strategy(driver.room_id)

    @settings(max_examples=250, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(frames=st.lists(strategy, min_size=1, max_size=3))
    def check(frames):
        for kind, payload in frames:
            driver.run(driver.check(kind, payload))

    check()
    driver.run(driver.valid_send())
