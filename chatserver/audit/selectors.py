"""Reading the audit log (site admins only)."""

from __future__ import annotations

from typing import Any

from django.utils.dateparse import parse_datetime

from chatserver.chat import access
from chatserver.chat.errors import InvalidInput
from chatserver.chat.payloads import iso

from .models import AuditEntry


def audit_page(*, actor, params) -> dict[str, Any]:
    access.check_site_admin(actor)
    qs = AuditEntry.objects.select_related("actor").order_by("-id")
    try:
        if params.get("actor"):
            qs = qs.filter(actor_id=int(params["actor"]))
        if params.get("room"):
            qs = qs.filter(room_id=int(params["room"]))
        if params.get("cursor"):
            qs = qs.filter(id__lt=int(params["cursor"]))
    except ValueError:
        raise InvalidInput("actor, room and cursor are integers.") from None
    if params.get("action"):
        qs = qs.filter(action__startswith=params["action"])
    if params.get("since"):
        since = parse_datetime(params["since"])
        if since is None:
            raise InvalidInput("since must be an ISO 8601 time.", fields={"since": "invalid"})
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
