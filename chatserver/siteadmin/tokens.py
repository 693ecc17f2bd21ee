"""API tokens of accounts, managed by site admins (GET/POST /admin/users/{id}/tokens,
DELETE /admin/users/{id}/tokens/{token_id}).

External bots talk REST + WebSocket with a bearer token; this is where an admin
issues one. Only the SHA-256 of a token is stored (accounts.ApiToken), so the raw
value is in the creating answer only. New tokens are issued for bot accounts only:
a token for a person would let an admin act as that person without a trace of
their password. Listing and revoking work for every account (a person's sign-in
tokens show up as "login").
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from chatserver.accounts.models import ApiToken, Role, User
from chatserver.audit import log as audit
from chatserver.chat import access
from chatserver.chat.errors import Forbidden, InvalidInput, NotFound
from chatserver.chat.payloads import iso
from chatserver.events.tx import write_transaction

MAX_TOKENS_PER_USER = 50
MAX_NAME = 100
RECONNECT = 1012  # the close code that asks a client to reconnect and resume (docs/api.md)


def _target(actor: User, user_id: int) -> User:
    access.check_site_admin(actor)
    user = User.objects.filter(id=user_id).first()
    if user is None:
        raise NotFound("User not found.")
    return user


def token_dict(token: ApiToken, *, raw: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"id": token.id, "name": token.name,
                            "created_at": iso(token.created_at),
                            "last_used_at": iso(token.last_used_at)}
    if raw is not None:
        data["token"] = raw
    return data


def list_tokens(*, actor: User, user_id: int) -> list[dict[str, Any]]:
    user = _target(actor, user_id)
    return [token_dict(t) for t in ApiToken.objects.filter(user=user).order_by("id")]


def create_token(*, actor: User, user_id: int, data: dict[str, Any]) -> tuple[ApiToken, str]:
    """Issue a token for a bot account; answer (token, raw value shown once)."""
    user = _target(actor, user_id)
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME \
            or any(ord(c) < 32 for c in name):
        raise InvalidInput(f"name: 1-{MAX_NAME} characters, no control characters.",
                           fields={"name": "invalid"})
    unknown = set(data) - {"name"}
    if unknown:
        raise InvalidInput(f"Unknown fields: {', '.join(sorted(unknown))}.",
                           fields={k: "unknown" for k in sorted(unknown)})
    if not user.is_bot:
        raise InvalidInput("Tokens are issued here for bot accounts only; people sign in "
                           "themselves.", fields={"user": "not_a_bot"})
    if not user.is_active:
        raise InvalidInput("The account is deactivated: reactivate it first.",
                           fields={"user": "inactive"})
    if user.role == Role.OWNER and actor.role != Role.OWNER:
        # The token acts with the account's role: only owners hand out owner powers.
        raise Forbidden("Only owners may issue tokens for owner accounts.")
    with write_transaction():
        if ApiToken.objects.filter(user=user).count() >= MAX_TOKENS_PER_USER:
            raise InvalidInput(f"At most {MAX_TOKENS_PER_USER} tokens per account: "
                               "revoke one first.", fields={"name": "too_many"})
        token, raw = ApiToken.issue(user, name=name.strip())
        audit.record(actor=actor, action="token.created", target=f"user:{user.id}",
                     detail={"token_id": token.id, "name": token.name})
    return token, raw


def revoke_token(*, actor: User, user_id: int, token_id: int) -> None:
    user = _target(actor, user_id)
    if user.role == Role.OWNER and actor.role != Role.OWNER and user.id != actor.id:
        raise Forbidden("Only owners may change owners.")
    with write_transaction():
        token = ApiToken.objects.filter(id=token_id, user=user).first()
        if token is None:
            raise NotFound("Token not found.")
        audit.record(actor=actor, action="token.revoked", target=f"user:{user.id}",
                     detail={"token_id": token.id, "name": token.name})
        token.delete()
        # A socket opened with the token would keep listening: the account's sockets
        # are told to reconnect and resume (1012). One on the revoked token is then
        # refused with 4401; one on another token or a session comes back at once.
        from chatserver.realtime.hub import close_user_sockets

        transaction.on_commit(lambda: close_user_sockets(user.id, RECONNECT))
