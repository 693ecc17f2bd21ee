"""search_messages(): the one entry point for the REST view and for bots (ctx.search)."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models.expressions import RawSQL

from chatserver.chat.errors import InvalidInput
from chatserver.chat.models import Message
from chatserver.chat.payloads import messages_with_reactions

from . import backends, highlight, query
from . import plan as planner

SORTS = ("relevance", "recent")
DEFAULT_LIMIT, MAX_LIMIT = 20, 100


@dataclass
class SearchPage:
    results: list[dict[str, Any]]
    next: str | None
    hints: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"results": self.results, "next": self.next, "hints": self.hints}


def _bad_cursor() -> InvalidInput:
    return InvalidInput("cursor is not valid; start again without it.",
                        fields={"cursor": "invalid"})


def _encode(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()


def _int(data: dict, key: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**63:
        raise _bad_cursor()
    return value


def _decode(cursor: str, sort: str) -> dict[str, Any]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error):
        raise _bad_cursor() from None
    if not isinstance(data, dict) or data.get("s") != sort:
        raise _bad_cursor()
    return data


def _limit(limit: object) -> int:
    if limit is None or limit == "":
        return DEFAULT_LIMIT
    try:
        n = int(limit)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise InvalidInput("limit must be an integer.", fields={"limit": "invalid"}) from None
    if not 1 <= n <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}.",
                           fields={"limit": "invalid"})
    return n


def search_messages(user, q: object, *, sort: str | None = "relevance",
                    cursor: str | None = None, limit: object = None) -> SearchPage:
    """Search the messages `user` may read today; raise InvalidInput for bad input."""
    sort = sort or "relevance"
    if sort not in SORTS:
        raise InvalidInput("sort must be relevance or recent.", fields={"sort": "invalid"})
    n = _limit(limit)
    state = _decode(cursor, sort) if cursor else {}
    parsed = query.parse(q)
    plan = planner.build(user, parsed)
    if not plan.room_ids:
        return SearchPage([], None, plan.hints)
    backend = backends.for_connection()
    backend.prepare(plan)
    if backend.matches_nothing():
        return SearchPage([], None, plan.hints)
    if sort == "recent":
        before = _int(state, "b") if state else None
        ids = backend.recent_ids(plan, before_id=before, limit=n + 1)
        more = len(ids) > n
        ids = ids[:n]
        nxt = _encode({"s": sort, "b": ids[-1]}) if more else None
    else:
        max_id = _int(state, "m") if state else backend.newest_id()
        if plan.id_ceiling is not None:
            max_id = min(max_id, plan.id_ceiling)
        offset = _int(state, "o") if state else 0
        cap = settings.CHAT["SEARCH_RANK_CANDIDATES"]
        if offset >= cap:
            return SearchPage([], None, plan.hints)
        ids = backend.ranked_ids(plan, max_id=max_id, offset=offset,
                                 limit=min(n + 1, cap - offset), candidates=cap)
        more = len(ids) > n
        ids = ids[:n]
        nxt = _encode({"s": sort, "m": max_id, "o": offset + n}) if more else None
    return SearchPage(_results(user, plan, backend, ids), nxt, plan.hints)


# What a result reads of its message, author (payloads.user_brief) and room.
MESSAGE_FIELDS = [f.name for f in Message._meta.concrete_fields]
RELATED_FIELDS = ("author__username", "author__display_name", "author__is_bot",
                  "room__name", "room__visibility", "room__archived")


def _results(user, plan: planner.Plan, backend, ids: list[int]) -> list[dict[str, Any]]:
    if not ids:
        return []
    found = (Message.objects.filter(id__in=ids, deleted=False).select_related("author", "room")
             .only(*MESSAGE_FIELDS, *RELATED_FIELDS))
    snippet = backend.snippet_sql(plan)
    if snippet is not None:
        # The backend's own SQL; every value in it is a parameter.
        found = found.annotate(raw_snippet=RawSQL(*snippet))  # noqa: S611
    by_id = {m.id: m for m in found}
    messages = [by_id[i] for i in ids if i in by_id]
    out = []
    for msg, data in zip(messages, messages_with_reactions(messages), strict=True):
        room = msg.room
        anchor = msg.thread_root_id or msg.id
        out.append({
            "message": data,
            "room": {"id": room.id, "name": room.name, "visibility": room.visibility,
                     "archived": room.archived, "joined": room.id in plan.joined},
            "highlight": highlight.render(msg.body, getattr(msg, "raw_snippet", None),
                                          plan.substrings),
            "link": f"/api/v1/rooms/{room.id}/messages?around={anchor}",
        })
    return out
