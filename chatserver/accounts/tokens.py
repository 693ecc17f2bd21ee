"""Resolve bearer tokens to users."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.db.models import Q
from django.utils import timezone

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
    if not raw or len(raw) > 200:
        return None
    now = timezone.now()
    stale_before = now - STAMP_EVERY
    # Every Bearer request runs this: one plain SQL statement, because building
    # the equivalent select_related().first() was a quarter of a REST post's
    # Python time (measured with py-spy under `wrk`). The same statement says
    # whether the token's last_used_at is due for a new stamp.
    users = list(User.objects.raw(
        f"SELECT u.*, t.id AS token_id, "  # noqa: S608 - table names from models
        "(t.last_used_at IS NULL OR t.last_used_at < %s) AS token_stale "
        f"FROM {User._meta.db_table} u "
        f"JOIN {ApiToken._meta.db_table} t ON t.user_id = u.id "
        "WHERE t.digest = %s AND u.is_active",
        [connection.ops.adapt_datetimefield_value(stale_before), hash_token(raw)],
    ))
    if not users:
        return None
    user = users[0]
    if user.token_stale:  # type: ignore[attr-defined]
        # Conditional, so concurrent first uses write the row once.
        with write_transaction():
            ApiToken.objects.filter(
                Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale_before),
                id=user.token_id,  # type: ignore[attr-defined]
            ).update(last_used_at=now)
    return user
