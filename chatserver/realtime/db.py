"""Run sync ORM code from the event loop."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from django.conf import settings
from django.db import close_old_connections

P = ParamSpec("P")
R = TypeVar("R")

_executor: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=settings.CHAT["DB_THREADS"],
                                       thread_name_prefix="db")
    return _executor


def db(fn: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """Wrap fn to run on the socket layer's database threads, handing its
    connection back after.

    A plain executor rather than asgiref's sync_to_async: these functions need
    no context variables, and copying the context in and out was 11% of the
    CPU of a reconnect storm. Django's connections are per thread, so each
    worker has its own (from the pool on PostgreSQL).
    """

    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        # Connections are handed back after every call (CONN_MAX_AGE=0: closed, or
        # returned to the pool), so there is nothing stale to check before one.
        try:
            return fn(*args, **kwargs)
        finally:
            close_old_connections()

    @functools.wraps(fn)
    async def run(*args: P.args, **kwargs: P.kwargs) -> R:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(_pool(), functools.partial(call, *args, **kwargs))

    return run
