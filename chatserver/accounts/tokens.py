"""Resolve bearer tokens to users."""

from __future__ import annotations

from .models import ApiToken, User, hash_token


def user_for_token(raw: str) -> User | None:
    """Return the active user owning this token, or None.

    The lookup is by SHA-256 digest on a unique index, so the comparison never
    touches the raw secret and its timing does not reveal a prefix.
    """
    if not raw or len(raw) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user").filter(digest=hash_token(raw)).first()
    )
    if token is None or not token.user.is_active:
        return None
    return token.user
