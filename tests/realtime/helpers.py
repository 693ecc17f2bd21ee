"""Helpers for the real-time tests: HTTP calls to a live server, socket utilities,
row counts, and a client-side reducer that applies room events to a message list.

Writes made while sockets are connected go through a server process (HTTP or a
socket): in the embedded pass the fan-out is in-process, so an action run in the
test process would commit without ringing any server's doorbell.
"""

from __future__ import annotations

import asyncio
import copy
import json
import socket
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import httpx
import websockets
from asgiref.sync import sync_to_async

from tests.wsclient import WS

EPHEMERAL = {"typing", "presence", "read", "message.ephemeral"}


def token_of(user_or_token: Any) -> str:
    return user_or_token if isinstance(user_or_token, str) else user_or_token.raw_token


class Api:
    """An httpx client for one user on one server process."""

    def __init__(self, server, user_or_token: Any):
        self.client = httpx.AsyncClient(
            base_url=server.url, timeout=20.0,
            headers={"Authorization": f"Bearer {token_of(user_or_token)}"},
        )

    async def __aenter__(self) -> Api:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.client.aclose()

    async def call(self, method: str, path: str, *, expect: Iterable[int] = (200, 201, 204),
                   **kwargs) -> Any:
        r = await self.client.request(method, f"/api/v1{path}", **kwargs)
        assert r.status_code in tuple(expect), f"{method} {path}: {r.status_code} {r.text}"
        return r.json() if r.content else None

    async def post(self, room_id: int, body: str, cmid: str | None = None,
                   thread_id: int | None = None, expect=(201,)) -> dict[str, Any]:
        data: dict[str, Any] = {"body": body}
        if cmid is not None:
            data["client_msg_id"] = cmid
        if thread_id is not None:
            data["thread_id"] = thread_id
        return await self.call("POST", f"/rooms/{room_id}/messages", json=data, expect=expect)

    async def edit(self, message_id: int, body: str) -> dict[str, Any]:
        return await self.call("PATCH", f"/messages/{message_id}", json={"body": body})

    async def delete(self, message_id: int) -> None:
        await self.call("DELETE", f"/messages/{message_id}", expect=(204,))

    async def react(self, message_id: int, emoji: str) -> None:
        await self.call("POST", f"/messages/{message_id}/reactions", json={"emoji": emoji},
                        expect=(201,))

    async def unreact(self, message_id: int, emoji: str) -> None:
        await self.call("DELETE", f"/messages/{message_id}/reactions/{emoji}", expect=(204,))

    async def pin(self, room_id: int, message_id: int, expect=(201,)) -> dict[str, Any]:
        return await self.call("POST", f"/rooms/{room_id}/messages/{message_id}/pin",
                               expect=expect)

    async def unpin(self, room_id: int, message_id: int) -> None:
        await self.call("DELETE", f"/rooms/{room_id}/messages/{message_id}/pin", expect=(204,))

    async def pins(self, room_id: int) -> list[dict[str, Any]]:
        return (await self.call("GET", f"/rooms/{room_id}/pins"))["results"]

    async def history(self, room_id: int) -> list[dict[str, Any]]:
        page = await self.call("GET", f"/rooms/{room_id}/messages", params={"limit": 200})
        assert page["prev"] is None, "history longer than one page"
        return page["results"]

    async def room(self, room_id: int) -> dict[str, Any]:
        return await self.call("GET", f"/rooms/{room_id}")

    async def invite(self, room_id: int, user_id: int) -> None:
        await self.call("POST", f"/rooms/{room_id}/members", json={"user_id": user_id})

    async def remove_member(self, room_id: int, user_id: int) -> None:
        await self.call("DELETE", f"/rooms/{room_id}/members/{user_id}", expect=(204,))


async def connect(server, user_or_token: Any, rooms: dict[int, int] | None = None,
                  **kwargs) -> WS:
    """Connect with a Bearer header and resume these rooms (go live at once)."""
    ws = await WS.connect(server, token_of(user_or_token), **kwargs)
    await ws.resume(rooms or {})
    return ws


async def stalled_socket(server, user_or_token: Any) -> WS:
    """A socket whose reader can be stopped: a tiny kernel receive buffer, and
    websockets buffering at most one frame. Call ws.conn.transport.pause_reading()
    to stop reading and resume_reading() to go on."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    sock.setblocking(False)
    conn = await websockets.connect(
        server.ws_url, sock=sock, max_queue=1, max_size=4 * 1024 * 1024,
        additional_headers={"Authorization": f"Bearer {token_of(user_or_token)}"})
    return WS(conn)


def tcp_send_buffer_max() -> int:
    """The most the kernel may buffer for one TCP socket (net.ipv4.tcp_wmem max)."""
    try:
        with open("/proc/sys/net/ipv4/tcp_wmem") as f:
            return int(f.read().split()[2])
    except (OSError, ValueError, IndexError):
        return 4 * 1024 * 1024


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise LookupError("no VmRSS")


async def recv_skip(ws: WS, skip: Iterable[str] = ("presence", "typing"),
                    timeout: float = 5.0) -> dict[str, Any]:
    """The next frame that is not presence or typing (those come at any time)."""
    skip = set(skip)
    while True:
        frame = await ws.recv(timeout)
        if frame.get("type") not in skip:
            return frame


async def send_and_ack(ws: WS, room_id: int, body: str, cmid: str,
                       timeout: float = 10.0) -> dict[str, Any]:
    await ws.send(json.dumps({"type": "message.send", "room": room_id, "body": body,
                              "client_msg_id": cmid}, ensure_ascii=False))
    return await ws.until("ack", timeout, client_msg_id=cmid)


async def wait_closed(ws: WS, timeout: float = 5.0) -> int | None:
    """Read (and keep) frames until the server closes the socket; return the close code."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while True:
            await ws.recv(max(0.01, deadline - loop.time()))
    except websockets.ConnectionClosed:
        return ws.conn.close_code


async def collect(ws: WS, room_id: int, last_seq: int, timeout: float = 10.0,
                  start: int | None = None) -> list[dict[str, Any]]:
    """Receive until the room's event `last_seq` arrived; return that room's seq'd frames.

    Counts frames received from now on, or from index `start` of ws.frames
    (0: everything this socket received, including a resume's replay).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    start = len(ws.frames) if start is None else start
    while True:
        out = room_events(ws.frames[start:], room_id)
        if out and out[-1]["seq"] >= last_seq:
            return out
        await ws.recv(max(0.01, deadline - loop.time()))


def room_events(frames: Iterable[dict[str, Any]], room_id: int | None = None
                ) -> list[dict[str, Any]]:
    return [f for f in frames if "seq" in f and (room_id is None or f.get("room") == room_id)]


def type_seq(frames: Iterable[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(f["type"], f["seq"]) for f in frames]


def assert_only_ephemeral(frames: Iterable[dict[str, Any]]) -> None:
    other = [f for f in frames if "seq" not in f and f.get("type") not in EPHEMERAL]
    assert other == []


# --- database, read from the test process ----------------------------------------------


def _counts() -> dict[str, int]:
    from chatserver.chat.models import Message, Reaction
    from chatserver.events.models import RoomEvent, UserEvent

    return {"messages": Message.objects.count(), "room_events": RoomEvent.objects.count(),
            "user_events": UserEvent.objects.count(), "reactions": Reaction.objects.count()}


counts = sync_to_async(_counts)


def _db_events(room_id: int, after: int = 0) -> list[tuple[int, str, dict[str, Any]]]:
    from chatserver.events.models import RoomEvent

    return [(seq, t, json.loads(frame)) for seq, t, frame in
            RoomEvent.objects.filter(room_id=room_id, seq__gt=after).order_by("seq")
            .values_list("seq", "type", "frame")]


db_events = sync_to_async(_db_events)


def _last_seq(room_id: int) -> int:
    from chatserver.chat.models import Room

    return Room.objects.values_list("last_seq", flat=True).get(id=room_id)


last_seq = sync_to_async(_last_seq)


# --- the client's view: apply events to a stale message list ----------------------------


def apply_events(messages: list[dict[str, Any]], events: Iterable[dict[str, Any]]
                 ) -> list[dict[str, Any]]:
    """What a client does with room events to keep its top-level history current."""
    state = {m["id"]: copy.deepcopy(m) for m in messages}
    for e in events:
        t = e["type"]
        if t == "message.new":
            m = e["message"]
            if m["thread_id"] is None:
                state[m["id"]] = copy.deepcopy(m)
            elif m["thread_id"] in state:
                state[m["thread_id"]]["reply_count"] += 1
        elif t in ("message.edited", "message.pinned", "message.unpinned"):
            if e["message"]["id"] in state:
                state[e["message"]["id"]] = copy.deepcopy(e["message"])
        elif t == "message.deleted":
            state.pop(e["message_id"], None)
            if e.get("thread_id") in state:
                state[e["thread_id"]]["reply_count"] -= 1
        elif t in ("reaction.added", "reaction.removed"):
            m = state.get(e["message_id"])
            if m is None:
                continue
            reactions = m["reactions"]
            entry = next((r for r in reactions if r["emoji"] == e["emoji"]), None)
            if t == "reaction.added":
                if entry is None:
                    entry = {"emoji": e["emoji"], "count": 0, "users": []}
                    reactions.append(entry)
                entry["users"].append(e["user_id"])
            else:
                assert entry is not None and e["user_id"] in entry["users"]
                entry["users"].remove(e["user_id"])
                if not entry["users"]:
                    reactions.remove(entry)
            if entry["users"]:
                entry["count"] = len(entry["users"])
    return sorted(state.values(), key=lambda m: m["seq"])


def apply_pin_events(pins: list[dict[str, Any]], events: Iterable[dict[str, Any]]
                     ) -> list[dict[str, Any]]:
    """What a client does with room events to keep a room's pinned list current
    (most recently pinned first, as GET /rooms/{id}/pins answers)."""
    state = {m["id"]: copy.deepcopy(m) for m in pins}
    for e in events:
        t = e["type"]
        if t == "message.pinned":
            state[e["message_id"]] = copy.deepcopy(e["message"])
        elif t in ("message.unpinned", "message.deleted"):
            state.pop(e["message_id"], None)
        elif t == "message.edited" and e["message"]["id"] in state:
            state[e["message"]["id"]] = copy.deepcopy(e["message"])
        elif t in ("reaction.added", "reaction.removed") and e["message_id"] in state:
            state[e["message_id"]] = apply_events([state[e["message_id"]]], [e])[0]
    # A pin replayed for a message deleted since is in its deleted form: not pinned.
    kept = [m for m in state.values() if m["pinned_at"] is not None]
    return sorted(kept, key=lambda m: (datetime.fromisoformat(m["pinned_at"]), m["id"]),
                  reverse=True)


class TcpProxy:
    """A TCP proxy in the test's event loop, to cut a server process off Redis.

    cut(seconds) drops every proxied connection; for that long new connections
    are refused (closed at once) or, with stall=True, accepted but held before
    being passed on. The rest of the machine's Redis users are not touched.
    """

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.server: asyncio.AbstractServer | None = None
        self.port = 0
        self.refuse_until = 0.0
        self.stall = False
        self.delay = 0.0  # seconds each chunk from the server process to Redis waits
        self.pairs: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self.accepted = 0

    async def start(self) -> TcpProxy:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        wait = self.refuse_until - loop.time()
        if wait > 0:
            if not self.stall:
                writer.close()
                return
            await asyncio.sleep(wait)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self.accepted += 1
        pair = (writer, up_writer)
        self.pairs.add(pair)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter,
                       delayed: bool = False) -> None:
            try:
                while data := await src.read(65536):
                    if delayed and self.delay > 0:
                        await asyncio.sleep(self.delay)
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                dst.close()

        try:
            await asyncio.gather(pipe(reader, up_writer, delayed=True), pipe(up_reader, writer))
        except asyncio.CancelledError:
            writer.transport.abort()
            up_writer.transport.abort()
        finally:
            self.pairs.discard(pair)

    def cut(self, seconds: float, stall: bool = False) -> None:
        self.refuse_until = asyncio.get_running_loop().time() + seconds
        self.stall = stall
        for a, b in list(self.pairs):
            for w in (a, b):
                w.transport.abort()
        self.pairs.clear()

    async def close(self) -> None:
        self.cut(0)
        if self.server is not None:
            self.server.close()
