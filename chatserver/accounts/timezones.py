"""Time zone names people may choose: the IANA database's, as zoneinfo knows them."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import available_timezones


@lru_cache(maxsize=1)
def _names() -> frozenset[str]:
    return frozenset(available_timezones())


def is_zone(value: object) -> bool:
    """True for a known IANA name such as "Europe/Paris" or "UTC" (never a path)."""
    return isinstance(value, str) and value in _names()
