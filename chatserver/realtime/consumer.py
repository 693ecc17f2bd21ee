"""The WebSocket endpoint /ws/: a protocol adapter over the actions layer.

Authenticate, decode a frame, call an action in a worker thread, encode the
answer. Room events reach the socket through the hub, not the channel layer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from typing import Any

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http.request import split_domain_port, validate_host

from chatserver.chat import access, actions
from chatserver.chat.errors import ChatError

from .connection import Connection, dumps
from .db import db
from .hub import hub, publish_room_ephemeral
from .replay import open_socket
from .writer import post_queue

log = logging.getLogger(__name__)

CLOSE_UNAUTHORIZED = 4401
CLOSE_RATE = 4429
AUTH_TIMEOUT = 10.0
RESUME_GRACE = 3.0
TYPING_MIN_INTERVAL = 2.0


def origin_allowed(origin: str) -> bool:
    from urllib.parse import urlparse

    parsed = urlparse(origin)
    if f"{parsed.scheme}://{parsed.netloc}" in settings.CSRF_TRUSTED_ORIGINS:
        return True
    host, _port = split_domain_port(parsed.netloc)
    return bool(host) and validate_host(host, settings.ALLOWED_HOSTS)


class FrameBudget:
    """Fixed-window budget of frames per socket."""

    def __init__(self, rate: tuple[int, int]):
        self.count, self.seconds = rate
        self.window = 0
        self.used = 0
        self.strikes = 0

    def take(self) -> float | None:
        """Count a frame; return seconds to wait if over budget, else None."""
        now = time.monotonic()
        window = int(now // self.seconds)
        if window != self.window:
            # Strikes count windows over the budget *in a row*: a window within
            # the budget, or a quiet one in between, starts the count again.
            if self.used <= self.count or window != self.window + 1:
                self.strikes = 0
            self.window, self.used = window, 0
        self.used += 1
        if self.used > self.count:
            if self.used == self.count + 1:
                self.strikes += 1
            return (window + 1) * self.seconds - now
        return None


class ChatConsumer(AsyncWebsocketConsumer):
    # No per-socket channel-layer channel: fan-out goes through the hub.
    channel_layer_alias = "__none__"

    user: Any = None
    conn: Connection | None = None
    # Set once the close is sent: a frame answered after it (a pong in flight
    # when the auth timer fired) would make the server raise.
    closing = False

    async def connect(self) -> None:
        headers = dict(self.scope.get("headers") or [])
        origin = headers.get(b"origin", b"").decode("latin-1")
        if origin and not origin_allowed(origin):
            await self.close(code=4403)
            return
        self.budget = FrameBudget(settings.CHAT["FRAME_RATE"])
        self.last_typing: dict[int, float] = {}
        bearer = None
        raw = headers.get(b"authorization")
        if raw is not None:
            parts = raw.decode("latin-1").split()
            if len(parts) == 2 and parts[0].lower() == "bearer":
                bearer = parts[1]
        start = await db(open_socket)(bearer, self.scope.get("session"))
        if start is not None and start.user is None:
            # A bad or revoked token is refused (4401), not silently treated
            # as "not signed in yet".
            await self.accept()
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        await hub.start()
        if start is not None:
            await self._start(start.user, start.room_seqs)
            await self.accept()
            assert self.conn is not None
            self.conn.opened()
        else:
            await self.accept()
            self._auth_timer = asyncio.get_running_loop().call_later(
                AUTH_TIMEOUT, lambda: asyncio.ensure_future(self.close(code=CLOSE_UNAUTHORIZED))
            )

    async def _start(self, user, seqs: dict[int, int]) -> None:
        self.user = user
        self.conn = Connection(user_id=user.id, send=self.base_send, close=self._close_code)
        await self.conn.start(seqs)
        self._grace = asyncio.get_running_loop().call_later(
            RESUME_GRACE, self.conn.release_baseline
        )

    async def _close_code(self, code: int) -> None:
        await self.close(code=code)

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Like Channels' dispatch, without its close_old_connections() thread hop
        before every frame: db() hands connections back around each call already."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        """Channels' version, without group bookkeeping (there are no groups) and
        without its close_old_connections() thread hop (12% of a reconnect storm)."""
        self.closing = True
        await self.disconnect(message.get("code", 1000))
        raise StopConsumer()

    async def disconnect(self, code: int) -> None:
        if self.conn is not None:
            self.conn.detach()
        for name in ("_grace", "_auth_timer"):
            timer = getattr(self, name, None)
            if timer is not None:
                timer.cancel()

    # --- frames ---------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if bytes_data is not None:
            await self.error("bad_frame", "Binary frames are not supported; send JSON text.")
            return
        assert text_data is not None
        if len(text_data.encode("utf-8", "surrogatepass")) > settings.CHAT["MAX_FRAME_BYTES"]:
            await self.error("too_large",
                             f"Frames are at most {settings.CHAT['MAX_FRAME_BYTES']} bytes.")
            return
        wait = self.budget.take()
        if wait is not None:
            if self.budget.strikes >= 3:
                await self.close(code=CLOSE_RATE)
                return
            await self.error("rate_limited", "Too many frames.", retry_after=round(wait, 2))
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            await self.error("invalid_json", "The frame is not valid JSON.")
            return
        except RecursionError:
            await self.error("invalid_json", "The frame is nested too deeply.")
            return
        if SURROGATE_ESCAPE.search(text_data) and _has_lone_surrogate(frame):
            # As for REST bodies (api/parsers.py): nothing can store one, and one
            # echoed back in an error frame could not even be sent (not UTF-8).
            await self.error("bad_frame", "The frame contains an unpaired UTF-16 "
                                          "surrogate escape.")
            return
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            await self.error("bad_frame", "A frame is a JSON object with a string 'type'.")
            return
        kind = frame["type"]
        if self.conn is None:
            if kind == "auth":
                await self.on_auth(frame)
            elif kind == "ping":
                await self.put({"type": "pong"})
            else:
                await self.error("not_authenticated", "Send an auth frame first.")
            return
        handler = self.HANDLERS.get(kind)
        if handler is None:
            await self.error("unknown_type", f"Unknown frame type {kind[:40]!r}.")
            return
        ref = _ref(frame)
        try:
            await handler(self, frame)
        except ChatError as exc:
            await self.error(exc.code, exc.message, ref=ref,
                             fields=exc.fields or None, retry_after=exc.retry_after)
        except (OperationalError, InterfaceError) as exc:
            # The database is restarting or unreachable: nothing was written (the
            # write is one transaction), so the client may resend the same frame.
            log.warning("frame %s: database unavailable: %s", kind, str(exc).splitlines()[0])
            await self.error("unavailable", "The database is unavailable; retry shortly.",
                             ref=ref, retry_after=1.0)
        except Exception:
            log.exception("frame %s failed", kind)
            await self.error("server_error", "The server failed to handle this frame.", ref=ref)

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        if self.closing:
            return
        self.closing = True
        await super().close(code=code, reason=reason)

    async def put(self, data: dict[str, Any]) -> None:
        if self.conn is not None:
            self.conn.put(dumps(data))
        elif not self.closing:
            await self.send(text_data=dumps(data))

    async def error(self, code: str, message: str, *, ref: Any = None, fields: Any = None,
                    retry_after: float | None = None) -> None:
        data: dict[str, Any] = {"type": "error", "code": code, "message": message}
        if ref is not None:
            data["ref"] = ref
        if fields:
            data["fields"] = fields
        if retry_after is not None:
            data["retry_after"] = retry_after
        await self.put(data)

    async def on_auth(self, frame: dict[str, Any]) -> None:
        token = frame.get("token")
        start = await db(open_socket)(token, None) if isinstance(token, str) else None
        if start is None or start.user is None:
            await self.error("not_authenticated", "Invalid or revoked token.")
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        self._auth_timer.cancel()
        user = start.user
        await self._start(user, start.room_seqs)
        assert self.conn is not None
        self.conn.opened()
        await self.put({"type": "auth.ok", "user_id": user.id})

    async def on_resume(self, frame: dict[str, Any]) -> None:
        rooms = frame.get("rooms") or {}
        user_seq = frame.get("user_seq")
        if not isinstance(rooms, dict) or (
            user_seq is not None and (not isinstance(user_seq, int) or isinstance(user_seq, bool))
        ):
            raise actions.InvalidInput(
                "resume needs rooms: {room_id: seq} and an integer user_seq."
            )
        wanted: dict[int, int] = {}
        for key, seq in rooms.items():
            try:
                room_id = int(key)
            except (TypeError, ValueError):
                raise actions.InvalidInput(f"Bad room id {str(key)[:20]!r}.") from None
            if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
                raise actions.InvalidInput(f"Bad seq for room {room_id}.")
            wanted[room_id] = seq
        assert self.conn is not None
        unknown, stream_seq = await self.conn.resume(wanted, user_seq)
        for room_id in unknown:
            await self.error("not_found", "Room not found.", ref=str(room_id))
        # The stream's current seq, so a client can resume its user stream next time.
        await self.put({"type": "ready", "user_seq": stream_seq})

    async def on_send(self, frame: dict[str, Any]) -> None:
        result = await post_queue.post(actions.PostRequest(
            actor=self.user,
            room_id=_room_id(frame),
            body=frame.get("body"),
            client_msg_id=frame.get("client_msg_id"),
            thread_id=frame.get("thread_id"),
        ))
        await self.put({"type": "ack", "client_msg_id": frame.get("client_msg_id"),
                        "message": result.message, "created": result.created})

    async def on_typing(self, frame: dict[str, Any]) -> None:
        room_id = _room_id(frame)
        assert self.conn is not None
        if room_id not in self.conn.seqs and room_id not in self.conn.held:
            # Not one of this socket's rooms: answer as every other door does
            # (404 unseen, 403 a visible room one has not joined).
            await db(_check_member)(self.user, room_id)
            raise actions.NotFound("Room not found.")  # joined meanwhile: resume first
        now = time.monotonic()
        if now - self.last_typing.get(room_id, 0.0) < TYPING_MIN_INTERVAL:
            return
        self.last_typing[room_id] = now
        publish_room_ephemeral(
            room_id, dumps({"type": "typing", "room": room_id, "user_id": self.user.id}),
            exclude_user=self.user.id,
        )

    async def on_read(self, frame: dict[str, Any]) -> None:
        await db(actions.mark_read)(actor=self.user, room_id=_room_id(frame), seq=frame.get("seq"))

    async def on_ping(self, frame: dict[str, Any]) -> None:
        await self.put({"type": "pong"})

    async def on_auth_again(self, frame: dict[str, Any]) -> None:
        await self.error("bad_frame", "Already signed in.")

    HANDLERS = {
        "resume": on_resume,
        "message.send": on_send,
        "typing": on_typing,
        "read": on_read,
        "ping": on_ping,
        "auth": on_auth_again,
    }


# Only a \ud800-\udfff escape can put a lone surrogate into a decoded frame.
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _has_lone_surrogate(frame: Any) -> bool:
    try:
        json.dumps(frame, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _ref(frame: dict[str, Any]) -> str | int | None:
    """The client_msg_id to echo in an error frame: only a plain id, never an
    arbitrary JSON value the client put there."""
    cmid = frame.get("client_msg_id")
    if isinstance(cmid, bool) or not isinstance(cmid, str | int):
        return None
    return cmid[:200] if isinstance(cmid, str) else cmid


def _check_member(user, room_id: int) -> None:
    access.check_member(access.access_room(user, room_id))


def _room_id(frame: dict[str, Any]) -> int:
    room = frame.get("room")
    if isinstance(room, bool) or not isinstance(room, int | str):
        raise actions.InvalidInput("room must be a room id.", fields={"room": "invalid"})
    try:
        return int(room)
    except ValueError:
        raise actions.InvalidInput("room must be a room id.", fields={"room": "invalid"}) from None
