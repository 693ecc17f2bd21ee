"""The per-process room registry and fan-out.

Each server process keeps room -> local connections, and (with REDIS_URL) ONE
Redis pub/sub subscription per room that has local connections. A committed
event is published once; every process that has sockets in the room receives
it, puts events back in seq order (fetching any gap from the database), and
writes the same JSON text to each local socket's bounded queue.

Redis pub/sub, like the Channels layer, is at-most-once: it is the doorbell,
the event rows in the database are the truth. A connection that sees a gap
replays it from the database.

Publishing is called from sync code in worker threads (after commit), so the
publish_* functions are thread-safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings

from .db import db

if TYPE_CHECKING:
    from .connection import Connection

log = logging.getLogger(__name__)

GAP_WAIT = 0.2  # seconds to wait for an out-of-order event before reading the database
ROOM_LINGER = 30.0  # keep an empty room's subscription this long (reconnect storms)
PRESENCE_TICK = 1.0
OFFLINE_GRACE = 8.0

ROOM_PREFIX = "chat:room:"
USER_PREFIX = "chat:user:"
PRESENCE_CHANNEL = "chat:presence"


class RoomChannel:
    __slots__ = ("room_id", "conns", "expected", "pending", "early", "ready", "gap_task",
                 "linger")

    def __init__(self, room_id: int):
        self.room_id = room_id
        self.conns: set[Connection] = set()
        self.expected: int | None = None  # next seq to deliver; None while starting
        self.pending: dict[int, tuple[str, int, str]] = {}
        self.early: list[tuple[int, str, int, str]] = []
        self.ready = asyncio.Event()
        self.gap_task: asyncio.Task | None = None
        self.linger: asyncio.TimerHandle | None = None


def _load_last_seqs(room_ids: list[int]) -> dict[int, int]:
    from chatserver.chat.models import Room

    return dict(Room.objects.filter(id__in=room_ids).values_list("id", "last_seq"))


def _load_events(room_id: int, after: int, upto: int) -> list[tuple[int, str, str]]:
    from chatserver.events.models import RoomEvent

    return list(
        RoomEvent.objects.filter(room_id=room_id, seq__gt=after, seq__lte=upto)
        .order_by("seq")
        .values_list("seq", "type", "frame")
    )


def _target_of(event_type: str, frame: str) -> int:
    if event_type.startswith("member."):
        return int(json.loads(frame).get("user_id") or 0)
    return 0


class Hub:
    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.rooms: dict[int, RoomChannel] = {}
        self.users: dict[int, set[Connection]] = {}
        self.redis_url: str = settings.REDIS_URL
        self._redis: Any = None
        self._pubsub: Any = None
        self._reader: asyncio.Task | None = None
        self._start_lock: asyncio.Lock | None = None
        self._started = False
        # presence: users with a local socket, and changes waiting for the next tick
        self.online: set[int] = set()
        self.remote_online: set[int] = set()
        self._presence_changes: dict[int, str] = {}
        self._offline_timers: dict[int, asyncio.TimerHandle] = {}
        self._presence_task: asyncio.Task | None = None
        self.stats = {"delivered": 0, "gaps_filled": 0, "overflow_closes": 0}

    # --- lifecycle -------------------------------------------------------------

    async def start(self) -> None:
        if self._started:
            return
        if self._start_lock is None:
            self._start_lock = asyncio.Lock()
        async with self._start_lock:
            if self._started:
                return
            self.loop = asyncio.get_running_loop()
            if self.redis_url:
                import redis.asyncio as aioredis

                self._redis = aioredis.Redis.from_url(self.redis_url)
                self._pubsub = self._redis.pubsub()
                await self._pubsub.subscribe(PRESENCE_CHANNEL)
                self._reader = asyncio.create_task(self._read_redis())
            self._presence_task = asyncio.create_task(self._presence_loop())
            self._started = True

    # --- rooms -------------------------------------------------------------------

    async def attach_rooms(self, conn: Connection, room_ids: Iterable[int]) -> None:
        """Register conn in these rooms, starting room subscriptions as needed."""
        room_ids = list(room_ids)
        new = [r for r in room_ids if r not in self.rooms]
        for r in new:
            self.rooms[r] = RoomChannel(r)
        if new:
            await self._start_rooms(new)
        for r in room_ids:
            ch = self.rooms.get(r)
            if ch is None:  # removed while we awaited; start again
                ch = self.rooms[r] = RoomChannel(r)
                await self._start_rooms([r])
            await ch.ready.wait()
            if ch.linger is not None:
                ch.linger.cancel()
                ch.linger = None
            ch.conns.add(conn)

    async def _start_rooms(self, room_ids: list[int]) -> None:
        try:
            if self._pubsub is not None:
                await self._pubsub.subscribe(*(f"{ROOM_PREFIX}{r}" for r in room_ids))
            last = await db(_load_last_seqs)(room_ids)
        except Exception:
            for r in room_ids:
                ch = self.rooms.pop(r, None)
                if ch is not None:
                    ch.ready.set()
            raise
        for r in room_ids:
            ch = self.rooms[r]
            ch.expected = last.get(r, 0) + 1
            early, ch.early = ch.early, []
            for seq, etype, target, frame in early:
                self._accept(ch, seq, etype, target, frame)
            ch.ready.set()

    def detach_room(self, conn: Connection, room_id: int) -> None:
        ch = self.rooms.get(room_id)
        if ch is None:
            return
        ch.conns.discard(conn)
        if not ch.conns and ch.linger is None and self.loop is not None:
            ch.linger = self.loop.call_later(ROOM_LINGER, self._drop_room, room_id)

    def _drop_room(self, room_id: int) -> None:
        ch = self.rooms.get(room_id)
        if ch is None or ch.conns:
            return
        del self.rooms[room_id]
        if ch.gap_task is not None:
            ch.gap_task.cancel()
        if self._pubsub is not None:
            asyncio.ensure_future(self._pubsub.unsubscribe(f"{ROOM_PREFIX}{room_id}"))

    def on_room_event(self, room_id: int, seq: int, etype: str, target: int, frame: str) -> None:
        """Take one event from the doorbell (Redis or this process)."""
        ch = self.rooms.get(room_id)
        if ch is None:
            return
        if seq == 0:  # ephemeral (typing): no order, no storage, droppable
            for conn in list(ch.conns):
                conn.deliver_ephemeral(room_id, frame)
            return
        if ch.expected is None:
            ch.early.append((seq, etype, target, frame))
            return
        self._accept(ch, seq, etype, target, frame)

    def _accept(self, ch: RoomChannel, seq: int, etype: str, target: int, frame: str) -> None:
        assert ch.expected is not None
        if seq < ch.expected:
            return
        ch.pending[seq] = (etype, target, frame)
        self._drain(ch)

    def _drain(self, ch: RoomChannel) -> None:
        assert ch.expected is not None
        while ch.expected in ch.pending:
            etype, target, frame = ch.pending.pop(ch.expected)
            seq = ch.expected
            ch.expected += 1
            conns = list(ch.conns)
            self.stats["delivered"] += len(conns)
            for conn in conns:
                conn.deliver(ch.room_id, seq, etype, target, frame)
        if ch.pending and (ch.gap_task is None or ch.gap_task.done()):
            ch.gap_task = asyncio.ensure_future(self._fill_gap(ch))

    async def _fill_gap(self, ch: RoomChannel) -> None:
        await asyncio.sleep(GAP_WAIT)
        if not ch.pending or ch.expected is None or ch.expected in ch.pending:
            if ch.pending:
                self._drain(ch)
            return
        upto = max(ch.pending)
        try:
            rows = await db(_load_events)(
                ch.room_id, ch.expected - 1, upto
            )
        except Exception:
            log.exception("could not read events of room %s to fill a gap", ch.room_id)
            rows = []
        self.stats["gaps_filled"] += 1
        for seq, etype, frame in rows:
            if seq >= ch.expected and seq not in ch.pending:
                ch.pending[seq] = (etype, _target_of(etype, frame), frame)
        if ch.expected not in ch.pending:
            # Not in the database either: it never committed. Skip ahead.
            ch.expected = min(ch.pending)
        self._drain(ch)

    # --- users: their own stream, ephemeral frames, control ------------------------

    async def attach_user(self, conn: Connection) -> None:
        uid = conn.user_id
        conns = self.users.setdefault(uid, set())
        first = not conns
        conns.add(conn)
        if first and self._pubsub is not None:
            await self._pubsub.subscribe(f"{USER_PREFIX}{uid}")
        if first:
            self._set_presence(uid, "online")

    def detach_user(self, conn: Connection) -> None:
        uid = conn.user_id
        conns = self.users.get(uid)
        if not conns:
            return
        conns.discard(conn)
        if not conns:
            del self.users[uid]
            if self._pubsub is not None:
                asyncio.ensure_future(self._pubsub.unsubscribe(f"{USER_PREFIX}{uid}"))
            if self.loop is not None:
                self._offline_timers[uid] = self.loop.call_later(
                    OFFLINE_GRACE, self._maybe_offline, uid
                )

    def on_user_message(self, user_id: int, kind: str, payload: str) -> None:
        for conn in list(self.users.get(user_id, ())):
            if kind == "event":
                conn.deliver_user_event(payload)
            elif kind == "eph":
                conn.deliver_ephemeral(None, payload)
            elif kind == "close":
                conn.close(int(payload))

    # --- presence ----------------------------------------------------------------------

    def _set_presence(self, uid: int, status: str) -> None:
        timer = self._offline_timers.pop(uid, None)
        if timer is not None:
            timer.cancel()
        if status == "online":
            if uid in self.online:
                return
            self.online.add(uid)
        else:
            self.online.discard(uid)
        self._presence_changes[uid] = status
        if self._redis is not None:
            asyncio.ensure_future(self._redis.publish(PRESENCE_CHANNEL, f"{uid}|{status}"))

    def _maybe_offline(self, uid: int) -> None:
        self._offline_timers.pop(uid, None)
        if uid not in self.users:
            self._set_presence(uid, "offline")

    def is_online(self, uid: int) -> bool:
        return uid in self.online or uid in self.remote_online

    async def _presence_loop(self) -> None:
        """Send presence changes once per tick, coalesced; dropped first under pressure."""
        while True:
            await asyncio.sleep(PRESENCE_TICK)
            changes, self._presence_changes = self._presence_changes, {}
            if not changes:
                continue
            if len(changes) <= 20:
                frames = [json.dumps({"type": "presence", "user_id": u, "status": s})
                          for u, s in changes.items()]
            else:
                frames = [json.dumps({"type": "presence",
                                      "users": {str(u): s for u, s in changes.items()}})]
            for conns in list(self.users.values()):
                for conn in list(conns):
                    for frame in frames:
                        conn.deliver_ephemeral(None, frame)

    # --- Redis reader --------------------------------------------------------------------

    async def _read_redis(self) -> None:
        while True:
            try:
                async for msg in self._pubsub.listen():
                    if msg.get("type") != "message":
                        continue
                    self._dispatch_redis(msg["channel"], msg["data"])
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("Redis subscription failed; resubscribing")
                await asyncio.sleep(1.0)
                with contextlib.suppress(Exception):
                    await self._resubscribe()

    async def _resubscribe(self) -> None:
        channels = [PRESENCE_CHANNEL]
        channels += [f"{ROOM_PREFIX}{r}" for r in self.rooms]
        channels += [f"{USER_PREFIX}{u}" for u in self.users]
        with contextlib.suppress(Exception):
            await self._pubsub.reset()
        self._pubsub = self._redis.pubsub()
        await self._pubsub.subscribe(*channels)
        # Anything published while we were away is in the database: make every
        # local socket replay from where it is.
        for ch in self.rooms.values():
            for conn in list(ch.conns):
                conn.request_resync(ch.room_id)

    def _dispatch_redis(self, channel: bytes, data: bytes) -> None:
        name = channel.decode()
        text = data.decode()
        try:
            if name.startswith(ROOM_PREFIX):
                room, seq, etype, target, frame = text.split("|", 4)
                self.on_room_event(int(room), int(seq), etype, int(target), frame)
            elif name.startswith(USER_PREFIX):
                kind, payload = text.split("|", 1)
                self.on_user_message(int(name[len(USER_PREFIX):]), kind, payload)
            elif name == PRESENCE_CHANNEL:
                uid_s, status = text.split("|", 1)
                uid = int(uid_s)
                if uid in self.online:
                    return
                if status == "online":
                    self.remote_online.add(uid)
                else:
                    self.remote_online.discard(uid)
                self._presence_changes[uid] = status
        except (ValueError, UnicodeDecodeError):
            log.warning("malformed message on %s", name)

    # --- thread-safe entry points -----------------------------------------------------

    def call_threadsafe(self, fn: Callable[..., None], *args: Any) -> None:
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            fn(*args)
        else:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(fn, *args)


hub = Hub()

_sync_redis_local = threading.local()


def _sync_redis():
    client = getattr(_sync_redis_local, "client", None)
    if client is None:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2.0)
        _sync_redis_local.client = client
    return client


def _redis_publish(channel: str, text: str) -> None:
    try:
        _sync_redis().publish(channel, text)
    except Exception:
        # The event is committed; sockets will find it when they resume.
        log.exception("publish to %s failed", channel)


def publish_room(room_id: int, seq: int, etype: str, target: int, frame: str) -> None:
    if settings.REDIS_URL:
        _redis_publish(f"{ROOM_PREFIX}{room_id}", f"{room_id}|{seq}|{etype}|{target}|{frame}")
    else:
        hub.call_threadsafe(hub.on_room_event, room_id, seq, etype, target, frame)


def publish_room_ephemeral(room_id: int, frame: str) -> None:
    publish_room(room_id, 0, "ephemeral", 0, frame)


def _publish_user(user_id: int, kind: str, payload: str) -> None:
    if settings.REDIS_URL:
        _redis_publish(f"{USER_PREFIX}{user_id}", f"{kind}|{payload}")
    else:
        hub.call_threadsafe(hub.on_user_message, user_id, kind, payload)


def publish_user(user_id: int, etype: str, frame: str) -> None:
    _publish_user(user_id, "event", frame)


def publish_user_ephemeral(user_id: int, data: dict[str, Any]) -> None:
    _publish_user(user_id, "eph", json.dumps(data, separators=(",", ":")))


def close_user_sockets(user_id: int, code: int = 4401) -> None:
    _publish_user(user_id, "close", str(code))


def now() -> float:
    return time.monotonic()
