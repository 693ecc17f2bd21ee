"""One socket's delivery state: per-room seq, holds while replaying, a bounded queue.

Frames reach a socket only through its queue, written by one task. A socket
whose queue fills (the client stopped reading) is closed with 4408 and
resumes from the database; it never slows the room.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings

from .db import db
from .hub import hub
from .replay import RoomReplay, load_replay, load_resume

log = logging.getLogger(__name__)

CLOSE_BEHIND = 4408
Held = tuple[int, str, int, str]


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


class Connection:
    def __init__(self, *, user_id: int, send: Callable[[dict], Awaitable[None]],
                 close: Callable[[int], Awaitable[None]]):
        self.user_id = user_id
        self._send = send
        self._close = close
        self.maxsize = int(settings.CHAT["SOCKET_QUEUE"])
        self.queue: asyncio.Queue[str] = asyncio.Queue(self.maxsize)
        self.seqs: dict[int, int] = {}
        self.held: dict[int, list[Held]] = {}
        self.baseline: dict[int, int] = {}
        self.joined: dict[int, int] = {}
        self._gap_tries: dict[int, int] = {}
        self.closed = False
        # Replays (resume, gap fills) may be longer than the queue: they are fed
        # in as the client reads, keeping the queue at most half full so live
        # events in other rooms still fit. Set when the queue has room again.
        self._low = max(1, self.maxsize // 2)
        self._space = asyncio.Event()
        self._space.set()
        # Started by opened(), once the socket is accepted: a frame sent before
        # the accept (presence, a user event during a slow connect) is refused by
        # the ASGI server and would stop the writer for good.
        self._writer: asyncio.Task | None = None
        self._tasks: set[asyncio.Task] = set()

    # --- subscription ------------------------------------------------------------

    async def start(self, room_seqs: dict[int, int]) -> None:
        """Subscribe to all rooms, holding their events until resume() says from where."""
        for room_id, seq in room_seqs.items():
            self.held[room_id] = []
            self.baseline[room_id] = seq
        await hub.attach_user(self)
        self.joined = await hub.attach_rooms(self, room_seqs)

    def release_baseline(self) -> None:
        """Go live in rooms nobody asked to resume, from the seq they had at connect."""
        for room_id in [r for r in self.baseline if r in self.held]:
            seq = self.baseline.pop(room_id)
            if self.joined.get(room_id, seq) > seq:
                # Events committed between reading the seq and joining the room's
                # fan-out were delivered before this socket was there: read them.
                self._spawn(self._replay({room_id: seq}))
                continue
            self.seqs[room_id] = seq
            self._flush_held(room_id)
        self.baseline.clear()

    async def resume(self, wanted: dict[int, int],
                     user_seq: int | None) -> tuple[list[int], int]:
        """Replay what was missed in these rooms and the user stream, then go live.

        Return the rooms not available and the user stream's seq.
        """
        mine = {r: s for r, s in wanted.items() if r in self.held or r in self.seqs}
        unknown = [r for r in wanted if r not in mine]
        for r in mine:
            self.held.setdefault(r, [])
            self.baseline.pop(r, None)
        try:
            found = await db(load_resume)(self.user_id, mine, user_seq)
        except Exception:
            for r in mine:
                self.held.pop(r, None)
            raise
        for room_id, replay in found.rooms.items():
            await self._apply_replay(room_id, mine[room_id], replay)
        self.release_baseline()
        for frame in found.user_frames:
            await self._put_paced(frame)
        return unknown, found.user_seq

    async def _replay(self, wanted: dict[int, int], delay: float = 0.0) -> None:
        if not wanted:
            return
        if delay:
            await asyncio.sleep(delay)
        try:
            result = await db(load_replay)(
                self.user_id, wanted
            )
        except Exception:
            for r in wanted:
                self.held.pop(r, None)
            raise
        for room_id, replay in result.items():
            await self._apply_replay(room_id, wanted[room_id], replay)

    async def _apply_replay(self, room_id: int, after: int, replay: RoomReplay) -> None:
        if replay.status == "gone":
            self.held.pop(room_id, None)
            self.seqs.pop(room_id, None)
            hub.detach_room(self, room_id)
            return
        if replay.status == "resync":
            self.put(dumps({"type": "resync_required", "room": room_id,
                            "last_seq": replay.last_seq}))
            self.seqs[room_id] = replay.last_seq
        else:
            have = after
            for seq, _etype, frame in replay.events:
                if seq > have:
                    await self._put_paced(frame)
                    have = seq
            if self.closed or room_id not in self.held:  # closed, or removed meanwhile
                return
            self.seqs[room_id] = max(have, self.seqs.get(room_id, 0))
        self._flush_held(room_id)

    def _flush_held(self, room_id: int) -> None:
        for event in self.held.pop(room_id, []):
            self.deliver(room_id, *event)

    async def add_room(self, room_id: int, since: int) -> None:
        if room_id in self.seqs or room_id in self.held:
            return
        self.held[room_id] = []
        await hub.attach_rooms(self, [room_id])
        await self._replay({room_id: since})

    def drop_room(self, room_id: int) -> None:
        self.seqs.pop(room_id, None)
        self.held.pop(room_id, None)
        hub.detach_room(self, room_id)

    # --- delivery (called by the hub, on the event loop) ----------------------------------

    def deliver(self, room_id: int, seq: int, etype: str, target: int, frame: str) -> None:
        if self.closed:
            return
        held = self.held.get(room_id)
        if held is not None:
            if len(held) >= self.maxsize:
                # Holding too much while a replay is read: keep only the newest.
                # Flushing it shows the gap, which is then read from the database.
                del held[:]
            held.append((seq, etype, target, frame))
            return
        have = self.seqs.get(room_id)
        if have is None or seq <= have:
            return
        if seq > have + 1:
            tries = self._gap_tries.get(room_id, 0)
            if tries >= 3:
                # Three reads of the database did not fill the gap: the event is
                # not from it. Drop it instead of replaying forever.
                self._gap_tries.pop(room_id, None)
                log.warning("room %s: event %s past a gap at %s dropped", room_id, seq, have)
                return
            self._gap_tries[room_id] = tries + 1
            self.held[room_id] = [(seq, etype, target, frame)]
            self._spawn(self._replay({room_id: have}, delay=0.05 * tries))
            return
        if self._gap_tries:
            self._gap_tries.pop(room_id, None)
        self.seqs[room_id] = seq
        self.put(frame)
        if etype == "member.left" and target == self.user_id:
            self.drop_room(room_id)

    def deliver_ephemeral(self, room_id: int | None, frame: str) -> None:
        """Typing, presence, read markers: dropped first when the socket lags."""
        if self.closed or self.queue.qsize() > self.maxsize // 4:
            return
        if room_id is not None and room_id not in self.seqs:
            return
        self.put(frame)

    def deliver_user_event(self, frame: str) -> None:
        if self.closed:
            return
        self.put(frame)
        data = json.loads(frame)
        if data.get("type") == "room.added":
            room = data["room"]["id"]
            self._spawn(self.add_room(room, int(data.get("since", 0))))
        elif data.get("type") == "room.removed":
            self.drop_room(int(data["room_id"]))

    def put(self, frame: str) -> None:
        if self.closed:
            return
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            hub.stats["overflow_closes"] += 1
            self.close(CLOSE_BEHIND)

    # --- plumbing -----------------------------------------------------------------------

    async def _put_paced(self, frame: str) -> None:
        """Queue a replayed frame once the queue is at most half full."""
        while not self.closed and self.queue.qsize() >= self._low:
            self._space.clear()
            await self._space.wait()
        self.put(frame)

    def close(self, code: int) -> None:
        if self.closed:
            return
        self.closed = True
        if self._writer is not None:
            self._writer.cancel()
        self._space.set()
        self._spawn(self._close(code))

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("socket task failed", exc_info=task.exception())

    def opened(self) -> None:
        """The socket is accepted: start writing the queue to it."""
        if self._writer is None and not self.closed:
            self._writer = asyncio.ensure_future(self._write())

    async def _write(self) -> None:
        send = self._send
        queue = self.queue
        space = self._space
        low = self._low
        try:
            while True:
                frame = await queue.get()
                if queue.qsize() < low:
                    space.set()
                await send({"type": "websocket.send", "text": frame})
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # The client is gone (the server raises on send); disconnect() follows.
            log.info("socket writer stopped: %r", exc)
            self.closed = True
        finally:
            space.set()

    def detach(self) -> None:
        self.closed = True
        if self._writer is not None:
            self._writer.cancel()
        self._space.set()
        for task in list(self._tasks):
            task.cancel()
        for room_id in list(self.seqs) + list(self.held):
            hub.detach_room(self, room_id)
        hub.detach_user(self)
