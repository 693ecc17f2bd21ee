"""Managing webhooks: create, list, revoke, inspect and replay deliveries.

Hooks belong to a room and are managed by its admins and by site admins (the
same rule as room settings, chat.access.check_manage). Every change is
audited. Each hook posts as its own bot user, a member of the room.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from chatserver.accounts.models import User, hash_token
from chatserver.audit import log as audit
from chatserver.chat import access, actions
from chatserver.chat.errors import InvalidInput, NotFound
from chatserver.chat.ids import is_id
from chatserver.chat.models import Membership, RoomRole
from chatserver.chat.payloads import iso, user_brief
from chatserver.events.tx import write_transaction

from . import netguard, outgoing
from .models import Delivery, HookKind, Webhook

TOKEN_PREFIX = "wh_"  # noqa: S105 (a prefix, not a secret)
MAX_TRIGGERS = 20
PAGE = 50


def _manage(actor: User, room_id: int):
    room_access = access.access_room(actor, room_id)
    access.check_manage(actor, room_access)
    return room_access


def _clean_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("name is required.", fields={"name": "required"})
    name = name.strip()
    if len(name) > 80 or not name.isprintable():
        raise InvalidInput("name must be at most 80 printable characters.",
                           fields={"name": "invalid"})
    return name


def _clean_triggers(kind: str, data: dict[str, Any]) -> list[str]:
    if kind == HookKind.COMMAND:
        command = data.get("command")
        if not isinstance(command, str) or not command.strip().lstrip("/"):
            raise InvalidInput("A command hook needs its command word, e.g. \"deploy\".",
                               fields={"command": "required"})
        word = command.strip().lstrip("/").lower()
        if len(word) > 32 or not word.replace("-", "").replace("_", "").isalnum():
            raise InvalidInput("command must be a word of at most 32 letters, digits, - or _.",
                               fields={"command": "invalid"})
        return [word]
    words = data.get("trigger_words")
    if (not isinstance(words, list) or not words or len(words) > MAX_TRIGGERS
            or not all(isinstance(w, str) and w.strip() and len(w) <= 64
                       and not any(c.isspace() for c in w.strip()) for w in words)):
        raise InvalidInput(f"trigger_words must be a list of 1 to {MAX_TRIGGERS} words "
                           "without spaces.", fields={"trigger_words": "invalid"})
    return [w.strip().lower() for w in words]


def _make_bot(name: str) -> User:
    bot = User(username=f"hook-{secrets.token_hex(5)}", display_name=name[:150], is_bot=True,
               password=make_password(None))
    bot.save()
    return bot


def create_webhook(*, actor: User, room_id: int, data: dict[str, Any],
                   base_url: str = "") -> tuple[Webhook, str]:
    """Create a hook; return it with its raw token (shown only now). `base_url` is the
    address it was created at (the base of a command's response_url)."""
    name = _clean_name(data.get("name"))
    kind = data.get("kind", HookKind.INCOMING)
    if kind not in HookKind.values:
        raise InvalidInput("kind must be incoming, outgoing or command.",
                           fields={"kind": "invalid"})
    secret = data.get("secret") or ""
    if not isinstance(secret, str) or len(secret) > 200:
        raise InvalidInput("secret must be a string of at most 200 characters.",
                           fields={"secret": "invalid"})
    target_url, triggers, content_type = "", [], "json"
    if kind != HookKind.INCOMING:
        try:
            target_url = netguard.check_url_shape(data.get("url"))
        except netguard.Refused as exc:
            raise InvalidInput(str(exc), fields={"url": "invalid"}) from None
        triggers = _clean_triggers(str(kind), data)
        content_type = data.get("content_type") or ("form" if kind == HookKind.COMMAND
                                                    else "json")
        if content_type not in ("json", "form"):
            raise InvalidInput("content_type must be json or form.",
                               fields={"content_type": "invalid"})
        # The receiver checks this token on every request (Mattermost's `token`).
        secret = secret or secrets.token_urlsafe(24)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with write_transaction():
        room_access = _manage(actor, room_id)
        bot = _make_bot(name)
        hook = Webhook.objects.create(
            room=room_access.room, name=name, kind=kind, token_digest=hash_token(raw),
            token_hint=raw[:8], secret=secret, bot_user=bot, created_by=actor,
            target_url=target_url, trigger_words=triggers, content_type=content_type,
            base_url=base_url[:300])
        actions.invite(actor=actor, room_id=room_id, user_ids=[bot.id])
        if room_access.room.posting_policy == "admins":
            # A hook made by a room admin may post where only admins post.
            Membership.objects.filter(room_id=room_id, user=bot).update(role=RoomRole.ADMIN)
        audit.record(actor=actor, action="webhook.created", target=f"webhook:{hook.id}",
                     room=room_access.room,
                     detail={"name": name, "kind": kind, "bot_user": bot.id,
                             "url": target_url, "trigger_words": triggers})
    outgoing.invalidate()
    return hook, raw


def hook_dict(hook: Webhook, *, base_url: str, raw_token: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": hook.id,
        "room": hook.room_id,
        "name": hook.name,
        "kind": hook.kind,
        "bot": user_brief(hook.bot_user),
        "created_by": hook.created_by_id,
        "created_at": iso(hook.created_at),
        "token_hint": hook.token_hint + "…",
        "has_secret": bool(hook.secret) if hook.kind == HookKind.INCOMING else True,
    }
    if hook.kind == HookKind.INCOMING:
        data["url"] = f"{base_url}/hooks/{raw_token}" if raw_token else None
    else:
        data.update(url=hook.target_url, trigger_words=hook.trigger_words,
                    content_type=hook.content_type)
    if raw_token is not None:
        # Incoming: the secret part of the URL. Outgoing: the token we send along.
        data["token"] = raw_token if hook.kind == HookKind.INCOMING else hook.secret
    return data


def list_webhooks(*, actor: User, room_id: int) -> list[Webhook]:
    _manage(actor, room_id)
    return list(Webhook.objects.select_related("bot_user")
                .filter(room_id=room_id, revoked_at=None).order_by("id"))


def _hook(actor: User, room_id: int, hook_id: int, *, lock: bool = False):
    room_access = _manage(actor, room_id)
    qs = Webhook.objects.select_related("bot_user", "room").filter(
        id=hook_id, room_id=room_id, revoked_at=None)
    if lock:
        qs = qs.select_for_update(of=("self",))
    hook = qs.first()
    if hook is None:
        raise NotFound("Webhook not found.")
    return hook, room_access


def revoke_webhook(*, actor: User, room_id: int, hook_id: int) -> None:
    """Revoke: the token stops working at once and the hook's bot is deactivated
    (its messages stay, under its name)."""
    with write_transaction():
        hook, room_access = _hook(actor, room_id, hook_id, lock=True)
        hook.revoked_at = timezone.now()
        hook.save(update_fields=["revoked_at"])
        User.objects.filter(id=hook.bot_user_id).update(is_active=False)
        audit.record(actor=actor, action="webhook.revoked", target=f"webhook:{hook.id}",
                     room=room_access.room, detail={"name": hook.name})
    outgoing.invalidate()


def delivery_dict(d: Delivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "direction": d.direction,
        "format": d.format,
        "delivery_id": d.delivery_id,
        "status": d.status,
        "error": d.error,
        "message_ids": d.message_ids,
        "duplicates": d.duplicates,
        "replays": d.replays,
        "created_at": iso(d.created_at),
        "headers": d.headers,
        "body": d.body,
    }


def list_deliveries(*, actor: User, room_id: int, hook_id: int,
                    before: object = None) -> dict[str, Any]:
    """Newest first, PAGE at a time; `next` is the cursor for older ones."""
    hook, _ = _hook(actor, room_id, hook_id)
    qs = Delivery.objects.filter(hook=hook).order_by("-id")
    if before not in (None, ""):
        try:
            cursor = int(str(before))
        except ValueError:
            cursor = -1
        if not is_id(cursor):
            raise InvalidInput("before must be a delivery id.", fields={"before": "invalid"})
        qs = qs.filter(id__lt=cursor)
    rows = list(qs[:PAGE + 1])
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    return {"results": [delivery_dict(d) for d in rows],
            "next": str(rows[-1].id) if more else None}


def replay_delivery(*, actor: User, room_id: int, hook_id: int,
                    delivery_id: int) -> dict[str, Any]:
    """Process a kept incoming delivery again, as if it had just arrived (without
    the duplicate check: replaying is asking for it to be posted again)."""
    from . import receive

    with write_transaction():
        hook, room_access = _hook(actor, room_id, hook_id, lock=True)
        delivery = Delivery.objects.select_for_update().filter(
            id=delivery_id, hook=hook).first()
        if delivery is None:
            raise NotFound("Delivery not found.")
        if delivery.direction != "in":
            raise InvalidInput("Only incoming deliveries can be replayed.",
                               fields={"delivery": "outgoing"})
        if delivery.format == "response":
            raise InvalidInput("A command's later answer (response_url) cannot be replayed; "
                               "the sender may post it again while the URL works.",
                               fields={"delivery": "response"})
        delivery.replays += 1
        error = receive.process(hook, delivery, replay=True)
        audit.record(actor=actor, action="webhook.replayed", target=f"webhook:{hook.id}",
                     room=room_access.room,
                     detail={"delivery": delivery.id, "status": delivery.status})
    if error is not None:
        raise error  # the replay was recorded as failed; say why
    return delivery_dict(delivery)
