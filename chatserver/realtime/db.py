"""Run sync ORM code from the event loop."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.db import close_old_connections

P = ParamSpec("P")
R = TypeVar("R")


def db(fn: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """Wrap fn to run in the shared thread pool, handing its connection back after.

    Unlike channels' database_sync_to_async this does not funnel every socket
    through one thread; SQLite serializes writers itself (IMMEDIATE + timeout)
    and PostgreSQL connections come from the pool.
    """

    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        close_old_connections()
        try:
            return fn(*args, **kwargs)
        finally:
            close_old_connections()

    return functools.wraps(fn)(sync_to_async(call, thread_sensitive=False))  # type: ignore[return-value]
