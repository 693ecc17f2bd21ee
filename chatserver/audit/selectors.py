"""Reading the audit log (site admins only)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from django.utils.dateparse import parse_datetime

from chatserver.chat import access
from chatserver.chat.errors import InvalidInput
from chatserver.chat.ids import MAX_ID
from chatserver.chat.payloads import iso

from .models import AuditEntry


def _id_param(params, name: str) -> int | None:
    raw = params.get(name)
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be an integer.", fields={name: "invalid"}) from None
    if not 0 < value <= MAX_ID:
        raise InvalidInput(f"{name} is out of range.", fields={name: "invalid"})
    return value


def audit_page(*, actor, params) -> dict[str, Any]:
    access.check_site_admin(actor)
    qs = AuditEntry.objects.select_related("actor").order_by("-id")
    for name, field in (("actor", "actor_id"), ("room", "room_id"), ("cursor", "id__lt")):
        value = _id_param(params, name)
        if value is not None:
            qs = qs.filter(**{field: value})
    action = params.get("action", "")
    if action:
        if "\x00" in action or len(action) > 64:
            raise InvalidInput("action is a dotted name.", fields={"action": "invalid"})
        qs = qs.filter(action__startswith=action)
    if params.get("since"):
        try:
            since = parse_datetime(params["since"])
            if since is not None:
                since.astimezone(UTC)  # out-of-range offsets and years fail here
        except (ValueError, OverflowError):
            since = None
        if since is None or since.tzinfo is None:
            raise InvalidInput("since must be an ISO 8601 time with a time zone.",
                               fields={"since": "invalid"})
        qs = qs.filter(at__gte=since)
    rows = list(qs[:101])
    page = rows[:100]
    return {
        "results": [
            {"id": e.id, "at": iso(e.at), "actor": e.actor_id,
             "actor_username": e.actor.username if e.actor else None, "action": e.action,
             "target": e.target, "room": e.room_id, "detail": e.detail}
            for e in page
        ],
        "next": page[-1].id if len(rows) > 100 else None,
    }
