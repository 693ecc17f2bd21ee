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
import os
import secrets
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings

from chatserver.redis_client import channel_prefix, shared_redis

from .db import db

if TYPE_CHECKING:
    from .connection import Connection

log = logging.getLogger(__name__)

GAP_WAIT = 0.2  # seconds to wait for an out-of-order event before reading the database
SUBSCRIBE_TIMEOUT = 5.0  # at most this long for Redis to confirm a SUBSCRIBE
ROOM_LINGER = 30.0  # keep an empty room's subscription this long (reconnect storms)
PRESENCE_TICK = float(os.environ.get("CHAT_PRESENCE_TICK", "1"))
# A user whose last socket closed stays "online" this long (reloads, reconnects).
OFFLINE_GRACE = float(os.environ.get("CHAT_PRESENCE_GRACE", "8"))


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
        # user -> the other server processes where the user has a socket
        self.remote_online: dict[int, set[str]] = {}
        self.node = f"{os.getpid()}-{secrets.token_hex(4)}"
        self._presence_changes: dict[int, str] = {}
        self._offline_timers: dict[int, asyncio.TimerHandle] = {}
        # users without local sockets whose channel is kept subscribed a while
        self._user_linger: dict[int, asyncio.TimerHandle] = {}
        self._presence_task: asyncio.Task | None = None
        self.stats = {"delivered": 0, "gaps_filled": 0, "overflow_closes": 0,
                      "redis_catch_ups": 0}
        self._background: set[asyncio.Task] = set()
        self.room_prefix = self.user_prefix = self.presence_channel = ""
        # channel -> resolved when Redis confirms our SUBSCRIBE to it
        self._sub_pending: dict[str, asyncio.Future] = {}

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

                prefix = channel_prefix()
                self.room_prefix = f"{prefix}room:"
                self.user_prefix = f"{prefix}user:"
                self.presence_channel = f"{prefix}presence"
                self._redis = aioredis.Redis.from_url(self.redis_url)
                self._pubsub = self._redis.pubsub()
                await self._pubsub.subscribe(self.presence_channel)
                self._reader = asyncio.create_task(self._read_redis())
            self._presence_task = asyncio.create_task(self._presence_loop())
            self._started = True

    # --- rooms -------------------------------------------------------------------

    async def attach_rooms(self, conn: Connection, room_ids: Iterable[int]) -> dict[int, int]:
        """Register conn in these rooms, starting room subscriptions as needed.

        Return {room: the last seq delivered before conn was registered}: conn
        did not get those events live (later ones reach it through deliver()).
        """
        joined: dict[int, int] = {}
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
            if ch.expected is not None:
                joined[r] = ch.expected - 1
        return joined

    async def _start_rooms(self, room_ids: list[int]) -> None:
        try:
            if self._pubsub is not None:
                # Read the seqs only once Redis has confirmed the SUBSCRIBE: an
                # event committed after the read is then published to us.
                await self._subscribe_confirmed([f"{self.room_prefix}{r}" for r in room_ids])
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
            self._spawn(self._unsubscribe(f"{self.room_prefix}{room_id}",
                                          still_wanted=lambda: room_id in self.rooms))

    def on_room_events(self, events: list[tuple[int, int, str, int, str]]) -> None:
        for event in events:
            self.on_room_event(*event)

    def on_room_event(self, room_id: int, seq: int, etype: str, target: int, frame: str) -> None:
        """Take one event from the doorbell (Redis or this process)."""
        ch = self.rooms.get(room_id)
        if ch is None:
            return
        if seq == 0:  # ephemeral (typing): no order, no storage, droppable
            for conn in list(ch.conns):
                if conn.user_id != target:  # target: the sender, who knows already
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
            # Seq N+1 commits only after N (the room row lock), so when N is not
            # in the database, nothing waiting after it came from this database
            # either: drop it rather than skip ahead past real events.
            log.warning("room %s: dropped %d events not in the database (seq %s..%s)",
                        ch.room_id, len(ch.pending), min(ch.pending), max(ch.pending))
            ch.pending.clear()
        self._drain(ch)

    # --- users: their own stream, ephemeral frames, control ------------------------

    async def attach_user(self, conn: Connection) -> None:
        uid = conn.user_id
        conns = self.users.setdefault(uid, set())
        first = not conns
        conns.add(conn)
        channel = f"{self.user_prefix}{uid}"
        linger = self._user_linger.pop(uid, None)
        if linger is not None:  # back within the linger: still subscribed
            linger.cancel()
        elif first and self._pubsub is not None:
            await self._subscribe_confirmed([channel])
        elif channel in self._sub_pending:  # the user's first socket is subscribing
            await self._wait_confirmed([self._sub_pending[channel]])
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
            if self._pubsub is not None and self.loop is not None:
                # Like rooms: keep the subscription a while, so a reconnect (or a
                # storm of them) costs Redis nothing.
                self._user_linger[uid] = self.loop.call_later(ROOM_LINGER, self._drop_user, uid)
            if self.loop is not None:
                self._offline_timers[uid] = self.loop.call_later(
                    OFFLINE_GRACE, self._maybe_offline, uid
                )

    def _drop_user(self, uid: int) -> None:
        self._user_linger.pop(uid, None)
        if uid not in self.users:
            self._spawn(self._unsubscribe(f"{self.user_prefix}{uid}",
                                          still_wanted=lambda: uid in self.users))

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
        """The user's sockets on this process came (online) or went (offline)."""
        timer = self._offline_timers.pop(uid, None)
        if timer is not None:
            timer.cancel()
        was = self.is_online(uid)
        if status == "online":
            if uid in self.online:
                return
            self.online.add(uid)
        else:
            self.online.discard(uid)
        if self.is_online(uid) != was:  # not when still online on another process
            self._presence_changes[uid] = status
        if self._redis is not None:
            self._spawn(self._publish_presence(f"{uid}|{status}|{self.node}"))

    async def _subscribe_confirmed(self, channels: list[str]) -> None:
        """SUBSCRIBE and wait until Redis confirms (the reader task sees it)."""
        loop = asyncio.get_running_loop()
        futures = []
        for channel in channels:
            fut = self._sub_pending.get(channel)
            if fut is None or fut.done():
                fut = self._sub_pending[channel] = loop.create_future()
            futures.append(fut)
        await self._pubsub.subscribe(*channels)
        await self._wait_confirmed(futures)

    async def _wait_confirmed(self, futures: list[asyncio.Future]) -> None:
        try:
            await asyncio.wait_for(asyncio.shield(asyncio.gather(*futures)), SUBSCRIBE_TIMEOUT)
        except TimeoutError:
            # Redis is slow or away: go on; a reconnect catches up from the database.
            log.warning("Redis did not confirm a SUBSCRIBE in %s s", SUBSCRIBE_TIMEOUT)

    def _subscribed(self, channel: bytes) -> None:
        fut = self._sub_pending.pop(channel.decode(), None)
        if fut is not None and not fut.done():
            fut.set_result(None)

    async def _unsubscribe(self, channel: str,
                           still_wanted: Callable[[], bool] | None = None) -> None:
        if still_wanted is not None and still_wanted():  # came back before we ran
            return
        try:
            await self._pubsub.unsubscribe(channel)
        except Exception:  # gone with the connection anyway
            log.warning("could not unsubscribe from %s", channel)

    async def _publish_presence(self, text: str) -> None:
        try:
            await self._redis.publish(self.presence_channel, text)
        except Exception:  # presence is best effort
            log.warning("could not publish presence %s", text)

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _maybe_offline(self, uid: int) -> None:
        self._offline_timers.pop(uid, None)
        if uid not in self.users:
            self._set_presence(uid, "offline")

    def is_online(self, uid: int) -> bool:
        return uid in self.online or bool(self.remote_online.get(uid))

    def _on_remote_presence(self, uid: int, status: str, node: str) -> None:
        if node == self.node:
            return
        was = self.is_online(uid)
        nodes = self.remote_online.setdefault(uid, set())
        if status == "online":
            nodes.add(node)
        else:
            nodes.discard(node)
            if not nodes:
                del self.remote_online[uid]
        if self.is_online(uid) != was:
            self._presence_changes[uid] = status

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
                    kind = msg.get("type")
                    if kind == "message":
                        self._dispatch_redis(msg["channel"], msg["data"])
                    elif kind == "subscribe":
                        self._subscribed(msg["channel"])
                # listen() returns at once when nothing is subscribed; going round
                # again would spin without ever yielding to the event loop.
                raise ConnectionError("the Redis subscription has no channels")
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("Redis subscription failed; resubscribing")
                while True:
                    await asyncio.sleep(1.0)
                    try:
                        await self._resubscribe()
                        break
                    except asyncio.CancelledError:
                        raise
                    except Exception as exc:
                        log.warning("Redis still unavailable (%s); retrying", exc)

    def _channels(self) -> list[str]:
        return ([self.presence_channel] + [f"{self.room_prefix}{r}" for r in self.rooms]
                + [f"{self.user_prefix}{u}" for u in {*self.users, *self._user_linger}])

    async def _resubscribe(self) -> None:
        """Subscribe everything on a new connection, then catch up from the database."""
        new = self._redis.pubsub()
        try:
            await new.subscribe(*self._channels())
        except BaseException:
            with contextlib.suppress(Exception):
                await new.aclose()
            raise
        old, self._pubsub = self._pubsub, new
        # Rooms attached while the subscribe above was in flight.
        await new.subscribe(*self._channels())
        with contextlib.suppress(Exception):
            await old.aclose()
        await self._catch_up()

    async def _catch_up(self) -> None:
        """Deliver the room events committed while the doorbell was not heard.

        One read per room that missed something, delivered through the normal
        path (in seq order, de-duplicated per socket), not one per socket.
        """
        self.stats["redis_catch_ups"] += 1
        rooms = [r for r, ch in self.rooms.items() if ch.expected is not None]
        if not rooms:
            return
        try:
            last = await db(_load_last_seqs)(rooms)
            for room_id in rooms:
                ch = self.rooms.get(room_id)
                if ch is None or ch.expected is None or last.get(room_id, 0) < ch.expected:
                    continue
                rows = await db(_load_events)(room_id, ch.expected - 1, last[room_id])
                if self.rooms.get(room_id) is not ch or ch.expected is None:
                    continue
                for seq, etype, frame in rows:
                    if seq >= ch.expected and seq not in ch.pending:
                        ch.pending[seq] = (etype, _target_of(etype, frame), frame)
                self._drain(ch)
        except Exception:
            log.exception("could not catch up from the database after a Redis outage")

    def _dispatch_redis(self, channel: bytes, data: bytes) -> None:
        name = channel.decode()
        text = data.decode()
        try:
            if name.startswith(self.room_prefix):
                room, seq, etype, target, frame = text.split("|", 4)
                self.on_room_event(int(room), int(seq), etype, int(target), frame)
            elif name.startswith(self.user_prefix):
                kind, payload = text.split("|", 1)
                self.on_user_message(int(name[len(self.user_prefix):]), kind, payload)
            elif name == self.presence_channel:
                uid_s, status, node = (text.split("|", 2) + [""])[:3]
                if status in ("online", "offline"):
                    self._on_remote_presence(int(uid_s), status, node)
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

def _redis_publish(channel: str, text: str) -> None:
    try:
        shared_redis().publish(channel, text)
    except Exception:
        # The event is committed; sockets will find it when they resume.
        log.exception("publish to %s failed", channel)


def publish_room(room_id: int, seq: int, etype: str, target: int, frame: str) -> None:
    publish_rooms([(room_id, seq, etype, target, frame)])


def publish_rooms(events: list[tuple[int, int, str, int, str]]) -> None:
    """Publish committed room events (room, seq, type, target_user, frame) in order,
    in one Redis round trip."""
    if settings.REDIS_URL:
        prefix = channel_prefix()
        try:
            pipe = shared_redis().pipeline(transaction=False)
            for room_id, seq, etype, target, frame in events:
                pipe.publish(f"{prefix}room:{room_id}", f"{room_id}|{seq}|{etype}|{target}|{frame}")
            pipe.execute()
        except Exception:
            # The events are committed; sockets will find them when they resume.
            log.exception("publishing %d room events failed", len(events))
    else:
        hub.call_threadsafe(hub.on_room_events, events)


def publish_room_ephemeral(room_id: int, frame: str, exclude_user: int = 0) -> None:
    """Typing and the like: no seq, not stored; not sent to `exclude_user`'s own sockets."""
    publish_room(room_id, 0, "ephemeral", exclude_user, frame)


def _publish_user(user_id: int, kind: str, payload: str) -> None:
    if settings.REDIS_URL:
        _redis_publish(f"{channel_prefix()}user:{user_id}", f"{kind}|{payload}")
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
