"""Fixed-window rate limits kept in the cache (Redis when REDIS_URL is set).

Like DRF's throttles this smooths load; it is not a security boundary. A
fixed window lets a burst of up to twice the budget straddle a boundary.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

from chatserver.redis_client import channel_prefix, shared_redis

from .errors import RateLimited


def _count(cache_key: str, n: int, ttl: int) -> int:
    if settings.REDIS_URL:
        # INCRBY + EXPIRE NX in one round trip (Django's incr() costs two), on
        # the process's shared client (see chatserver/redis_client.py).
        key = f"{channel_prefix()}{cache_key}"
        pipe = shared_redis().pipeline(transaction=False)
        pipe.incrby(key, n)
        pipe.expire(key, ttl, nx=True)
        return int(pipe.execute()[0])
    try:
        return cache.incr(cache_key, n)
    except ValueError:  # first hit of the window (or it just expired)
        if cache.add(cache_key, n, ttl):
            return n
        return cache.incr(cache_key, n)


def hit(scope: str, key: object, rate: tuple[int, int]) -> None:
    """Count one hit; raise RateLimited when the window's budget is spent."""
    allowed, error = hit_many(scope, key, rate, 1)
    if not allowed:
        assert error is not None
        raise error


def hit_many(scope: str, key: object, rate: tuple[int, int],
             n: int) -> tuple[int, RateLimited | None]:
    """Count n hits at once (one cache round trip in the common case).

    Returns how many of them fit in the window's budget and, when not all
    did, the error for the rest.
    """
    count, seconds = rate
    now = time.time()
    window = int(now // seconds)
    cache_key = f"rl:{scope}:{key}:{window}"
    total = _count(cache_key, n, seconds + 1)
    allowed = max(0, min(n, count - (total - n)))
    if allowed == n:
        return n, None
    retry_after = round((window + 1) * seconds - now, 2)
    return allowed, RateLimited(
        f"Too many requests; try again in {retry_after:g} s.", retry_after=retry_after
    )
