"""Group commit for messages sent over sockets.

Sends that arrive while a write is in flight wait and then go to the database
together in one `actions.post_messages` call: one transaction, one seq bump
per room, bulk inserts and one publish for the lot. An idle server writes a
lone send at once, so batching adds no latency; under load the batches grow
with the backlog, and the cost per message falls (see `python -m bench write`).

SQLite has one writer, so one batch runs at a time; PostgreSQL runs up to
CHAT["WRITE_CONCURRENCY"] batches side by side (default 1 per process: measured
with `python -m bench run --mode production --scenario throughput` on 2 cores,
one batch at a time made bigger batches and beat two on every figure: REST at
500/s p99 37-38 vs 52 ms, socket sends at 500/s 28-30 vs 42 ms, closed-loop
1,546-1,686 vs 1,429 msg/s; many-rooms delivery p99 184 vs 339 ms).

REST posts join the same batches: the HTTP worker thread hands its send to the
server's event loop (`post_from_thread`) and waits for the answer. A REST post
answered on the loop (api/fastpost.py) comes as a TokenPost: its Bearer token is
resolved with the batch's other tokens, in the batch's database call.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import cast

from django.conf import settings
from django.db import InterfaceError, OperationalError

from chatserver.accounts.tokens import users_for_tokens
from chatserver.chat import actions
from chatserver.chat.errors import ChatError

from .db import db

log = logging.getLogger(__name__)


@dataclass
class TokenPost:
    """A post whose author is named by a Bearer token, resolved with its batch."""

    token: str
    room_id: object
    body: object
    client_msg_id: object = None
    thread_id: object = None


class TokenRefused(Exception):
    """The token names no active user (the REST layer answers 401)."""


Post = actions.PostRequest | TokenPost
Waiter = tuple[Post, asyncio.Future]


class PostQueue:
    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.pending: list[Waiter] = []
        self.running = 0

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """The server's event loop, where batches are formed (chatserver/asgi.py)."""
        if self.loop is not loop:
            self.loop, self.pending, self.running = loop, [], 0

    def post_from_thread(self, request: actions.PostRequest) -> actions.PostResult:
        """Post from a worker thread through the loop's batches, or directly when
        no server loop runs (management commands, tests without a server)."""
        loop = self.loop
        if loop is None or loop.is_closed() or not loop.is_running() or _on_loop(loop):
            return actions.post_message(actor=request.actor, room_id=request.room_id,
                                        body=request.body,
                                        client_msg_id=request.client_msg_id,
                                        thread_id=request.thread_id)
        return asyncio.run_coroutine_threadsafe(self.post(request), loop).result()

    @staticmethod
    def concurrency() -> int:
        return 1 if settings.IS_SQLITE else int(settings.CHAT["WRITE_CONCURRENCY"])

    async def post(self, request: Post) -> actions.PostResult:
        loop = asyncio.get_running_loop()
        self.bind(loop)  # a new event loop (tests) forgets the old one's state
        future: asyncio.Future = loop.create_future()
        self.pending.append((request, future))
        self._start_batches()
        return await future

    def _start_batches(self) -> None:
        assert self.loop is not None
        limit = int(settings.CHAT["WRITE_BATCH"])
        while self.pending and self.running < self.concurrency():
            batch, self.pending = self.pending[:limit], self.pending[limit:]
            self.running += 1
            self.loop.create_task(self._write(batch))

    async def _write(self, batch: list[Waiter]) -> None:
        try:
            results = await db(_write_batch)([req for req, _ in batch])
        except Exception as exc:  # the whole batch failed (e.g. the database is down)
            if isinstance(exc, OperationalError | InterfaceError):
                log.warning("writing a batch of %d messages failed: database unavailable: %s",
                            len(batch), str(exc).splitlines()[0] if str(exc) else exc)
            else:
                log.exception("writing a batch of %d messages failed", len(batch))
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
        else:
            for (_, future), result in zip(batch, results, strict=True):
                if future.done():  # the socket went away meanwhile
                    continue
                if isinstance(result, ChatError | TokenRefused):
                    future.set_exception(result)
                else:
                    future.set_result(result)
        finally:
            self.running -= 1
            self._start_batches()


def _write_batch(posts: list[Post]) -> list[actions.PostResult | ChatError | TokenRefused]:
    """actions.post_messages for the batch, authors named by token looked up first."""
    tokens = [p.token for p in posts if isinstance(p, TokenPost)]
    users = users_for_tokens(tokens) if tokens else {}
    out: list[actions.PostResult | ChatError | TokenRefused | None] = [None] * len(posts)
    requests: list[actions.PostRequest] = []
    where: list[int] = []
    for i, p in enumerate(posts):
        if isinstance(p, TokenPost):
            user = users.get(p.token)
            if user is None:
                out[i] = TokenRefused()
                continue
            p = actions.PostRequest(actor=user, room_id=p.room_id, body=p.body,
                                    client_msg_id=p.client_msg_id, thread_id=p.thread_id)
        requests.append(p)
        where.append(i)
    for i, result in zip(where, actions.post_messages(requests) if requests else [],
                         strict=True):
        out[i] = result
    # Every slot is filled (refused, or answered by post_messages in order): one
    # answer per post, in the batch's order, is what _write pairs with the waiters.
    assert all(r is not None for r in out)
    return cast(list[actions.PostResult | ChatError | TokenRefused], out)


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


post_queue = PostQueue()
