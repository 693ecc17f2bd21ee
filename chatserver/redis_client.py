"""One synchronous Redis client per process, for code that runs on threads.

Its connection pool is thread-safe. Django's cache backend is no substitute on
the hot path: its client lives in a per-context cache handler, and HTTP
requests run in a fresh context each, so every request opened (and
handshook) a new Redis connection.
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
from typing import Any

from django.conf import settings

_client: Any = None
_lock = threading.Lock()


def shared_redis() -> Any:
    """The process's client for settings.REDIS_URL (which must be set)."""
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                import redis

                _client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2.0)
    return _client


@functools.lru_cache(maxsize=8)
def _namespace(database_name: str, explicit: str) -> str:
    if explicit:
        return explicit
    digest = hashlib.sha256(database_name.encode()).hexdigest()[:10]
    return f"chat:{digest}:"


def channel_prefix() -> str:
    """The start of every Redis key and pub/sub channel name of this deployment.

    Redis pub/sub channels are global to a Redis server: the /N database number
    in REDIS_URL does not scope them. Two deployments (or test runs) sharing a
    Redis would otherwise hear each other's chat:room:<id> events, and room ids
    and seqs of different databases collide. So the names carry the database
    they belong to (its name; CHAT_REDIS_PREFIX sets the prefix explicitly).
    """
    return _namespace(str(settings.DATABASES["default"]["NAME"]),
                      os.environ.get("CHAT_REDIS_PREFIX", ""))
