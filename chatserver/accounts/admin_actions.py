"""Site administration writes: users, roles, deactivation, tokens."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from chatserver.audit import log as audit
from chatserver.chat import access
from chatserver.chat.errors import Conflict, Forbidden, InvalidInput, NotFound
from chatserver.chat.payloads import user_full
from chatserver.events.tx import write_transaction

from .models import ApiToken, Role, User, hash_token
from .timezones import is_zone

USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def _clean_username(value: object) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 150 or not set(value) <= USERNAME_CHARS:
        raise InvalidInput("username: 1-150 letters, digits, '_', '.', '-'.",
                           fields={"username": "invalid"})
    return value


def _clean_role(value: object, actor: User, old: str | None = None) -> str:
    if value not in Role.values:
        raise InvalidInput(f"role must be one of {', '.join(Role.values)}.",
                           fields={"role": "invalid"})
    access.check_grant_role(actor, old, str(value))
    return str(value)


def revoke_sessions(user_id: int) -> int:
    """Delete every stored session signed in as this user; return how many.

    The auth backend already refuses inactive users, but a session that survived
    would come back to life on reactivation, so they are deleted outright.
    """
    from django.contrib.sessions.models import Session

    doomed = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        data = session.get_decoded()
        if str(data.get("_auth_user_id")) == str(user_id):
            doomed.append(session.session_key)
    Session.objects.filter(session_key__in=doomed).delete()
    return len(doomed)


def create_user(*, actor: User, data: dict[str, Any]) -> User:
    access.check_site_admin(actor)
    username = _clean_username(data.get("username"))
    role = _clean_role(data.get("role", Role.MEMBER), actor)
    is_bot = data.get("is_bot", False)
    if not isinstance(is_bot, bool):
        raise InvalidInput("is_bot must be true or false.", fields={"is_bot": "invalid"})
    display_name = data.get("display_name") or ""
    if not isinstance(display_name, str) or len(display_name) > 150:
        raise InvalidInput("display_name is at most 150 characters.",
                           fields={"display_name": "invalid"})
    password = data.get("password")
    if not is_bot:
        if not isinstance(password, str):
            raise InvalidInput("password is required.", fields={"password": "required"})
        try:
            validate_password(password, User(username=username))
        except ValidationError as exc:
            raise InvalidInput(" ".join(exc.messages), fields={"password": exc.messages}) from None
    try:
        with write_transaction():
            user = User(username=username, display_name=display_name, role=role, is_bot=is_bot)
            if is_bot or password is None:
                user.set_unusable_password()
            else:
                user.set_password(password)
            user.save()
            audit.record(actor=actor, action="user.created", target=f"user:{user.id}",
                         detail={"username": username, "role": role, "is_bot": is_bot})
    except IntegrityError:
        raise Conflict("That username is taken.", fields={"username": "taken"}) from None
    return user


def user_detail(*, actor: User, user_id: int, presence) -> dict[str, Any]:
    user = User.objects.filter(id=user_id, is_active=True).first()
    if user is None and actor.is_site_admin:
        user = User.objects.filter(id=user_id).first()
    if user is None:
        raise NotFound("User not found.")
    return user_full(user, presence(user.id))


def _clean_timezone(value: object) -> str:
    """An IANA zone name; "" or null go back to the site's zone."""
    if value is None or value == "":
        return ""
    if not is_zone(value):
        raise InvalidInput("timezone must be an IANA time zone name such as Europe/Paris "
                           "(or empty for the site's).", fields={"timezone": "invalid"})
    return str(value)


SELF_EDITABLE = {"display_name", "timezone"}


def update_user(*, actor: User, user_id: int, changes: dict[str, Any]) -> User:
    """Site admins change anyone (owners only by owners); everyone changes their own
    SELF_EDITABLE fields (PATCH /users/me)."""
    allowed = {"role", "display_name", "is_active", "timezone"}
    if not changes:
        raise InvalidInput(f"Nothing to change: send one of {', '.join(sorted(allowed))}.")
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput(f"Unknown fields: {', '.join(sorted(unknown))}.")
    target = User.objects.filter(id=user_id).first()
    if target is None:
        raise NotFound("User not found.")
    self_edit = target.id == actor.id and set(changes) <= SELF_EDITABLE
    if not self_edit:
        access.check_site_admin(actor)
        if target.role == Role.OWNER and actor.role != Role.OWNER:
            raise Forbidden("Only owners may change owners.")
    with write_transaction():
        if "display_name" in changes:
            name = changes["display_name"]
            if not isinstance(name, str) or len(name) > 150:
                raise InvalidInput("display_name is at most 150 characters.",
                                   fields={"display_name": "invalid"})
            target.display_name = name
        if "timezone" in changes:
            target.timezone = _clean_timezone(changes["timezone"])
        if "role" in changes:
            old = target.role
            target.role = _clean_role(changes["role"], actor, old)
            audit.record(actor=actor, action="user.role_changed", target=f"user:{target.id}",
                         detail={"from": old, "to": target.role})
        deactivated = False
        if "is_active" in changes:
            if not isinstance(changes["is_active"], bool):
                raise InvalidInput("is_active must be true or false.",
                                   fields={"is_active": "invalid"})
            if target.id == actor.id and not changes["is_active"]:
                raise Forbidden("You cannot deactivate yourself.")
            deactivated = target.is_active and not changes["is_active"]
            target.is_active = changes["is_active"]
            audit.record(actor=actor,
                         action="user.deactivated" if deactivated else "user.reactivated",
                         target=f"user:{target.id}")
        target.save()
        if deactivated:
            # Sessions stop working at once: the auth backend refuses inactive users.
            ApiToken.objects.filter(user=target).delete()
            revoke_sessions(target.id)
            from chatserver.realtime.hub import close_user_sockets

            transaction.on_commit(lambda: close_user_sockets(target.id, 4401))
    return target


def revoke_token(*, raw: str | None = None, token_id: int | None = None,
                 user_id: int | None = None) -> None:
    """Revoke one token: by its raw value, or by id (only if it belongs to user_id)."""
    if raw is not None:
        ApiToken.objects.filter(digest=hash_token(raw)).delete()
    if token_id is not None and user_id is not None:
        ApiToken.objects.filter(id=token_id, user_id=user_id).delete()
