"""Reading the audit log (site admins only): filtered pages and exports."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime

from chatserver.chat import access
from chatserver.chat.errors import InvalidInput
from chatserver.chat.ids import MAX_ID
from chatserver.chat.payloads import iso

from .models import AuditEntry

EXPORT_COLUMNS = ("id", "at", "actor", "actor_username", "action", "target", "room", "ip",
                  "detail")


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


def _time_param(params, name: str) -> datetime | None:
    raw = params.get(name)
    if not raw:
        return None
    try:
        value = parse_datetime(raw)
        if value is not None:
            value.astimezone(UTC)  # out-of-range offsets and years fail here
    except (ValueError, OverflowError):
        value = None
    if value is None or value.tzinfo is None:
        raise InvalidInput(f"{name} must be an ISO 8601 time with a time zone.",
                           fields={name: "invalid"})
    return value


def _text_param(params, name: str, limit: int) -> str:
    value = params.get(name, "")
    if "\x00" in value or len(value) > limit:
        raise InvalidInput(f"{name} is at most {limit} characters, without NUL.",
                           fields={name: "invalid"})
    return value


def filtered(*, actor, params) -> QuerySet[AuditEntry]:
    """The entries matching actor, action (prefix), room, since, until, q (text) and
    cursor (entries older than this id), newest first."""
    access.check_site_admin(actor)
    qs = AuditEntry.objects.select_related("actor").order_by("-id")
    for name, field in (("actor", "actor_id"), ("room", "room_id"), ("cursor", "id__lt")):
        value = _id_param(params, name)
        if value is not None:
            qs = qs.filter(**{field: value})
    action = _text_param(params, "action", 64)
    if action:
        qs = qs.filter(action__startswith=action)
    since, until = _time_param(params, "since"), _time_param(params, "until")
    if since is not None:
        qs = qs.filter(at__gte=since)
    if until is not None:
        qs = qs.filter(at__lt=until)
    text = _text_param(params, "q", 200).strip()
    if text:
        qs = qs.filter(Q(action__icontains=text) | Q(target__icontains=text)
                       | Q(actor__username__icontains=text) | Q(ip__startswith=text)
                       | Q(detail__icontains=text))
    return qs


def entry_dict(e: AuditEntry) -> dict[str, Any]:
    return {"id": e.id, "at": iso(e.at), "actor": e.actor_id,
            "actor_username": e.actor.username if e.actor else None, "action": e.action,
            "target": e.target, "room": e.room_id, "ip": e.ip, "detail": e.detail}


def audit_page(*, actor, params) -> dict[str, Any]:
    rows = list(filtered(actor=actor, params=params)[:101])
    page = rows[:100]
    return {
        "results": [entry_dict(e) for e in page],
        "next": page[-1].id if len(rows) > 100 else None,
    }


def export_lines(*, actor, params) -> tuple[str, Iterator[str]]:
    """(content type, chunks) of every matching entry as CSV or a JSON array."""
    fmt = params.get("format", "json")
    if fmt not in ("csv", "json"):
        raise InvalidInput("format must be csv or json.", fields={"format": "invalid"})
    qs = filtered(actor=actor, params=params)

    def as_json() -> Iterator[str]:
        yield "["
        for n, e in enumerate(qs.iterator(chunk_size=500)):
            yield ("," if n else "") + json.dumps(entry_dict(e), ensure_ascii=False)
        yield "]\n"

    def as_csv() -> Iterator[str]:
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(EXPORT_COLUMNS)
        for e in qs.iterator(chunk_size=500):
            d = entry_dict(e)
            d["detail"] = json.dumps(d["detail"], ensure_ascii=False, sort_keys=True)
            writer.writerow([_csv_safe(d[c]) for c in EXPORT_COLUMNS])
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
        yield buf.getvalue()

    if fmt == "csv":
        return "text/csv; charset=utf-8", as_csv()
    return "application/json", as_json()


def _csv_safe(value: object) -> object:
    """Spreadsheets run cells starting with = + - @ as formulas: quote them with '."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value
