"""The range of database ids, for input that names a row."""

from __future__ import annotations

from typing import TypeGuard

MAX_ID = 2**63 - 1  # the database's integer range


def is_id(value: object) -> TypeGuard[int]:
    """True for an int (not a bool) that could be a row id."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID
