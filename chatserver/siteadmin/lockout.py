"""Login lockout with backoff, per username and per client address.

After LOGIN_LOCK_AFTER failures in a row for a username (LOGIN_LOCK_AFTER_IP for
an address) further attempts are refused for LOGIN_LOCK_SECONDS, doubling with
each further failure up to LOGIN_LOCK_MAX_SECONDS. A successful login clears the
username's count (not the address's: one right password must not reset a spray).
The counters live in the cache (Redis when REDIS_URL is set, so every process
shares them). A race between two processes can let an extra attempt or two
through; the backoff still grows.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

from chatserver.chat.errors import RateLimited

FORGET_AFTER = 24 * 3600


def _keys(username: str, ip: str | None) -> list[tuple[str, int]]:
    conf = settings.CHAT
    keys = [(f"lockout:user:{username.lower()[:150]}", conf["LOGIN_LOCK_AFTER"])]
    if ip:
        keys.append((f"lockout:ip:{ip}", conf["LOGIN_LOCK_AFTER_IP"]))
    return keys


def check(username: str, ip: str | None) -> None:
    """Raise RateLimited (429 with Retry-After) while the username or address is locked."""
    now = time.time()
    for key, _ in _keys(username, ip):
        state = cache.get(key)
        if state and state.get("until", 0) > now:
            wait = state["until"] - now
            raise RateLimited(
                f"Too many failed sign-ins; try again in {int(wait + 0.999)} s.",
                retry_after=wait)


def failed(username: str, ip: str | None) -> None:
    now = time.time()
    conf = settings.CHAT
    for key, threshold in _keys(username, ip):
        state = cache.get(key) or {"failures": 0, "until": 0}
        state["failures"] += 1
        over = state["failures"] - threshold
        if over >= 0:
            wait = min(conf["LOGIN_LOCK_SECONDS"] * 2 ** min(over, 20),
                       conf["LOGIN_LOCK_MAX_SECONDS"])
            state["until"] = now + wait
        cache.set(key, state, FORGET_AFTER)


def succeeded(username: str) -> None:
    cache.delete(_keys(username, None)[0][0])
