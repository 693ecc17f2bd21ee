"""Site administration: user listing, invite links, all rooms, admin joins, site settings.

Every write checks access (chat/access.py) and is audited in its transaction.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import Count, Q
from django.utils import timezone

from chatserver.accounts.admin_actions import _clean_username
from chatserver.accounts.models import Role, User, hash_token
from chatserver.audit import log as audit
from chatserver.chat import access, actions
from chatserver.chat.errors import Conflict, InvalidInput, NotFound
from chatserver.chat.ids import MAX_ID, is_id
from chatserver.chat.models import Membership, Room, Visibility
from chatserver.chat.payloads import iso, user_full
from chatserver.events.tx import write_transaction

from .models import Invite, SiteSettings

INVITE_PREFIX = "inv_"
MAX_INVITE_HOURS = 24 * 30
PAGE = 100


def _cursor(params) -> int | None:
    raw = params.get("cursor")
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput("cursor must be an integer.", fields={"cursor": "invalid"}) from None
    if not 0 < value <= MAX_ID:
        raise InvalidInput("cursor is out of range.", fields={"cursor": "invalid"})
    return value


def _bool_param(params, name: str) -> bool | None:
    raw = params.get(name)
    if raw in (None, ""):
        return None
    if raw not in ("true", "false"):
        raise InvalidInput(f"{name} must be true or false.", fields={name: "invalid"})
    return raw == "true"


def _query(params) -> str:
    q = params.get("q", "")
    if "\x00" in q or len(q) > 100:
        raise InvalidInput("q is at most 100 characters, without NUL.", fields={"q": "invalid"})
    return q.strip()


# --- users ------------------------------------------------------------------------------


def list_users(*, actor: User, params) -> dict[str, Any]:
    """Every account, deactivated ones and bots included: q, role, active, bot, cursor."""
    access.check_site_admin(actor)
    qs = User.objects.order_by("id")
    q = _query(params)
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(display_name__icontains=q))
    role = params.get("role")
    if role:
        if role not in Role.values:
            raise InvalidInput(f"role must be one of {', '.join(Role.values)}.",
                               fields={"role": "invalid"})
        qs = qs.filter(role=role)
    for name, field in (("active", "is_active"), ("bot", "is_bot")):
        value = _bool_param(params, name)
        if value is not None:
            qs = qs.filter(**{field: value})
    cursor = _cursor(params)
    if cursor is not None:
        qs = qs.filter(id__gt=cursor)
    rows = list(qs[:PAGE + 1])
    page = rows[:PAGE]
    results = []
    for u in page:
        data = user_full(u)
        data.update(last_login=iso(u.last_login), date_joined=iso(u.date_joined))
        results.append(data)
    return {"results": results, "next": page[-1].id if len(rows) > PAGE else None}


# --- invites ------------------------------------------------------------------------------


def invite_dict(invite: Invite, *, raw: str | None = None) -> dict[str, Any]:
    now = timezone.now()
    state = ("revoked" if invite.revoked else "used" if invite.used_at
             else "expired" if invite.expires_at <= now else "open")
    data: dict[str, Any] = {
        "id": invite.id, "role": invite.role, "note": invite.note, "state": state,
        "created_by": invite.created_by_id, "created_at": iso(invite.created_at),
        "expires_at": iso(invite.expires_at), "used_at": iso(invite.used_at),
        "used_by": invite.used_by_id,
    }
    if raw is not None:
        data["token"] = raw
        data["path"] = f"/#/invite/{raw}"
    return data


def create_invite(*, actor: User, data: dict[str, Any]) -> tuple[Invite, str]:
    role = data.get("role", Role.MEMBER)
    if role not in Role.values:
        raise InvalidInput(f"role must be one of {', '.join(Role.values)}.",
                           fields={"role": "invalid"})
    access.check_grant_role(actor, None, role)
    hours = data.get("expires_in_hours", 72)
    if not is_id(hours) or hours > MAX_INVITE_HOURS:
        raise InvalidInput(f"expires_in_hours must be 1-{MAX_INVITE_HOURS}.",
                           fields={"expires_in_hours": "invalid"})
    note = data.get("note", "")
    if not isinstance(note, str) or len(note) > 200 or "\x00" in note:
        raise InvalidInput("note is at most 200 characters.", fields={"note": "invalid"})
    raw = INVITE_PREFIX + secrets.token_urlsafe(32)
    with write_transaction():
        invite = Invite.objects.create(
            digest=hash_token(raw), role=role, note=note, created_by=actor,
            expires_at=timezone.now() + timedelta(hours=hours))
        audit.record(actor=actor, action="invite.created", target=f"invite:{invite.id}",
                     detail={"role": role, "expires_at": iso(invite.expires_at), "note": note})
    return invite, raw


def list_invites(*, actor: User) -> list[dict[str, Any]]:
    access.check_site_admin(actor)
    return [invite_dict(i) for i in Invite.objects.order_by("-id")[:500]]


def revoke_invite(*, actor: User, invite_id: int) -> None:
    access.check_site_admin(actor)
    with write_transaction():
        invite = Invite.objects.select_for_update().filter(id=invite_id).first()
        if invite is None:
            raise NotFound("Invite not found.")
        if invite.revoked or invite.used_at:
            return
        invite.revoked = True
        invite.save(update_fields=["revoked"])
        audit.record(actor=actor, action="invite.revoked", target=f"invite:{invite.id}")


def accept_invite(*, data: dict[str, Any]) -> User:
    """Create the account an open invite link promises (public: the token is the credential)."""
    token = data.get("token")
    if not isinstance(token, str) or not token or len(token) > 200:
        raise InvalidInput("token is required.", fields={"token": "required"})
    username = _clean_username(data.get("username"))
    password = data.get("password")
    if not isinstance(password, str):
        raise InvalidInput("password is required.", fields={"password": "required"})
    display_name = data.get("display_name") or ""
    if not isinstance(display_name, str) or len(display_name) > 150:
        raise InvalidInput("display_name is at most 150 characters.",
                           fields={"display_name": "invalid"})
    try:
        validate_password(password, User(username=username, display_name=display_name))
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), fields={"password": exc.messages}) from None
    try:
        with write_transaction():
            invite = Invite.objects.select_for_update().filter(digest=hash_token(token)).first()
            if (invite is None or invite.revoked or invite.used_at is not None
                    or invite.expires_at <= timezone.now()):
                # One answer for unknown, used, revoked and expired: the token names nothing.
                raise NotFound("This invite link is not valid (expired, used or revoked).")
            user = User(username=username, display_name=display_name, role=invite.role)
            user.set_password(password)
            user.save()
            invite.used_at = timezone.now()
            invite.used_by = user
            invite.save(update_fields=["used_at", "used_by"])
            audit.record(actor=user, action="invite.accepted", target=f"user:{user.id}",
                         detail={"invite": invite.id, "role": invite.role,
                                 "username": username})
    except IntegrityError:
        raise Conflict("That username is taken.", fields={"username": "taken"}) from None
    return user


# --- rooms ------------------------------------------------------------------------------


def list_rooms(*, actor: User, params) -> dict[str, Any]:
    """All public and private rooms: names, settings and member counts, never content."""
    access.check_site_admin(actor)
    qs = (Room.objects.exclude(visibility=Visibility.DIRECT)
          .annotate(member_count=Count("memberships")).order_by("id"))
    q = _query(params)
    if q:
        qs = qs.filter(name__icontains=q)
    visibility = params.get("visibility")
    if visibility:
        if visibility not in (Visibility.PUBLIC, Visibility.PRIVATE):
            raise InvalidInput("visibility must be public or private.",
                               fields={"visibility": "invalid"})
        qs = qs.filter(visibility=visibility)
    archived = _bool_param(params, "archived")
    if archived is not None:
        qs = qs.filter(archived=archived)
    cursor = _cursor(params)
    if cursor is not None:
        qs = qs.filter(id__gt=cursor)
    rows = list(qs[:PAGE + 1])
    page = rows[:PAGE]
    mine = set(Membership.objects.filter(user=actor, room_id__in=[r.id for r in page])
               .values_list("room_id", flat=True))
    results = [{
        "id": r.id, "name": r.name, "topic": r.topic, "visibility": r.visibility,
        "archived": r.archived, "posting_policy": r.posting_policy,
        "invite_policy": r.invite_policy, "allow_bots": r.allow_bots,
        "retention_days": r.retention_days, "member_count": r.member_count,
        "created_by": r.created_by_id, "created_at": iso(r.created_at),
        "joined": r.id in mine,
    } for r in page]
    return {"results": results, "next": page[-1].id if len(rows) > PAGE else None}


def admin_join(*, actor: User, room_id: int) -> Room:
    """A site admin joins any public or private room; joining a private one is audited."""
    access.admin_room(actor, room_id)
    with write_transaction():
        room = Room.objects.select_for_update().get(id=room_id)
        access.check_admin_join(actor, room)
        if Membership.objects.filter(room=room, user=actor).exists():
            return room
        actions._add_member(room, actor, "member", by=actor)
        audit.record(actor=actor, action="admin.room_joined", target=f"room:{room.id}",
                     room=room, detail={"visibility": room.visibility})
    return room


# --- settings ---------------------------------------------------------------------------


def settings_dict() -> dict[str, Any]:
    s = SiteSettings.load()
    return {"retention_days": s.retention_days, "retention_last_run": iso(s.retention_last_run)}


def update_settings(*, actor: User, changes: dict[str, Any]) -> dict[str, Any]:
    access.check_site_admin(actor)
    allowed = {"retention_days"}
    unknown = set(changes) - allowed
    if not changes or unknown:
        raise InvalidInput("Send retention_days (null or 1-36500).",
                           fields={f: "unknown" for f in unknown})
    days = changes["retention_days"]
    if days is not None and not (is_id(days) and days <= 36500):
        raise InvalidInput("retention_days must be null or 1-36500.",
                           fields={"retention_days": "invalid"})
    with write_transaction():
        s = SiteSettings.load()
        before = s.retention_days
        s.retention_days = days
        s.save(update_fields=["retention_days"])
        audit.record(actor=actor, action="site.settings_changed", target="site",
                     detail={"before": {"retention_days": before},
                             "after": {"retention_days": days}})
    return settings_dict()
