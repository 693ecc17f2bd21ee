"""Resolve bearer tokens to users."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from chatserver.events.sql import ModelColumns
from chatserver.events.tx import write_transaction

from .models import ApiToken, User, hash_token

# ApiToken.last_used_at is exact to this much: a token in steady use costs one
# UPDATE per STAMP_EVERY, not one per request.
STAMP_EVERY = timedelta(seconds=60)


def user_for_token(raw: str) -> User | None:
    """Return the active user owning this token, or None; note when it was used.

    The lookup is by SHA-256 digest on a unique index, so the comparison never
    touches the raw secret and its timing does not reveal a prefix.
    """
    return users_for_tokens([raw]).get(raw)


_USER = ModelColumns(User)


def users_for_tokens(raws: list[str]) -> dict[str, User]:
    """The active users owning these tokens, by token (unknown ones left out), in
    one statement; stamps last_used_at of those last stamped over STAMP_EVERY ago.

    Every Bearer request runs this (REST message posts resolve a whole group
    commit's tokens at once, realtime/writer.py), so it is plain SQL: building
    the equivalent select_related().first() was a quarter of a REST post's
    Python time (measured with py-spy under `wrk`).
    """
    by_digest = {hash_token(raw): raw for raw in set(raws) if raw and len(raw) <= 200}
    if not by_digest:
        return {}
    now = timezone.now()
    stale_before = now - STAMP_EVERY
    marks = ", ".join(["%s"] * len(by_digest))
    sql = (f"SELECT {_USER.select('u')}, t.digest, t.id, "  # noqa: S608 - names from models
           "(t.last_used_at IS NULL OR t.last_used_at < %s) "
           f"FROM {User._meta.db_table} u "
           f"JOIN {ApiToken._meta.db_table} t ON t.user_id = u.id "
           f"WHERE t.digest IN ({marks}) AND u.is_active")
    found: dict[str, User] = {}
    stale: list[int] = []
    with connection.cursor() as cur:
        cur.execute(sql, [connection.ops.adapt_datetimefield_value(stale_before),
                          *by_digest])
        for row in cur.fetchall():
            digest, token_id, is_stale = row[len(_USER):]
            found[by_digest[digest]] = cast(User, _USER.build(row[:len(_USER)]))
            if is_stale:
                stale.append(token_id)
    if stale:
        # Conditional, so concurrent first uses write the row once.
        with write_transaction():
            ApiToken.objects.filter(
                Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale_before),
                id__in=stale,
            ).update(last_used_at=now)
    return found
