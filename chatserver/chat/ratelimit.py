"""Fixed-window rate limits kept in the cache (Redis when REDIS_URL is set).

Like DRF's throttles this smooths load; it is not a security boundary. A
fixed window lets a burst of up to twice the budget straddle a boundary.
"""

from __future__ import annotations

import time

from django.core.cache import cache

from .errors import RateLimited


def hit(scope: str, key: object, rate: tuple[int, int]) -> None:
    """Count one hit; raise RateLimited when the window's budget is spent."""
    count, seconds = rate
    now = time.time()
    window = int(now // seconds)
    cache_key = f"rl:{scope}:{key}:{window}"
    cache.add(cache_key, 0, seconds + 1)
    try:
        n = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, seconds + 1)
        n = 1
    if n > count:
        retry_after = round((window + 1) * seconds - now, 2)
        raise RateLimited(
            f"Too many requests; try again in {retry_after:g} s.", retry_after=retry_after
        )
