"""Turn a parsed query plus the searcher's access into SQL conditions shared by
both backends (everything except the text matching, which each backend does
with its own index).

The access filter is the first condition of every search: the room list is
computed here from the searcher's memberships and the public rooms they may
browse, before any ranking, and an empty list ends the search at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.db import connection

from chatserver.accounts.models import User
from chatserver.chat.errors import InvalidInput
from chatserver.chat.models import Room

from .access import readable_room_ids
from .query import Filter, ParsedQuery, Term, TermKind
from .schema import FILTER_PREDICATES


@dataclass
class Plan:
    """What to search: text terms for the backend, SQL for the rest (alias m = chat_message)."""

    terms: list[Term]
    room_ids: list[int]
    where: list[str] = field(default_factory=list)
    params: list = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    # A before:/on: bound: the newest matches are not at the end of the id index.
    upper_date_bound: bool = False
    # A positive from:/has:/is: filter with its own index: intersecting it with
    # the text index bounds the work even when the filter rejects most matches.
    selective_filter: bool = False

    def add(self, sql: str, *params) -> None:
        self.where.append(sql)
        self.params.extend(params)

    @property
    def substrings(self) -> list[str]:
        return [t.text for t in self.terms if t.kind is TermKind.SUBSTRING and not t.negated]


def _bad(message: str) -> InvalidInput:
    return InvalidInput(message, fields={"q": message})


def _placeholders(values: list) -> str:
    return ", ".join(["%s"] * len(values))


def _day_start(d: date):
    return connection.ops.adapt_datetimefield_value(
        datetime(d.year, d.month, d.day, tzinfo=UTC))


def _date_condition(f: Filter) -> tuple[str, list]:
    assert isinstance(f.value, date)
    start, end = _day_start(f.value), _day_start(f.value + timedelta(days=1))
    if f.op == "before":
        return "m.created_at < %s", [start]
    if f.op == "after":
        return "m.created_at >= %s", [end]
    return "(m.created_at >= %s AND m.created_at < %s)", [start, end]


def _rooms(user: User, parsed: ParsedQuery, readable: set[int]) -> set[int]:
    def lookup(f: Filter) -> set[int]:
        found = set(Room.objects.filter(id__in=readable, name__iexact=f.value)
                    .values_list("id", flat=True))
        if not found:
            # The same answer for a room that does not exist and one the searcher
            # may not read, so the search does not reveal private room names.
            raise _bad(f"No room named #{f.value} that you can read.")
        return found

    rooms = set(readable)
    wanted = parsed.filters_of("in", negated=False)
    if wanted:
        rooms &= set().union(*(lookup(f) for f in wanted))
    for f in parsed.filters_of("in", negated=True):
        rooms -= lookup(f)
    return rooms


def _authors(parsed: ParsedQuery, negated: bool) -> list[int]:
    ids: list[int] = []
    for f in parsed.filters_of("from", negated=negated):
        found = list(User.objects.filter(username__iexact=f.value).values_list("id", flat=True))
        if not found:
            raise _bad(f"No user named @{f.value}.")
        ids.extend(found)
    return ids


def _indexed(key: str) -> str:
    """A FILTER_PREDICATES entry over alias m, as literal SQL (no parameters), so
    the planner sees the partial index's own WHERE clause and may use it."""
    sql = FILTER_PREDICATES[key].replace("%", "%%")
    for column in ("html", "thread_root_id", "reply_count", "mentions_room"):
        sql = sql.replace(column, f"m.{column}")
    return sql


def _flag_condition(f: Filter, user: User) -> tuple[str, list]:
    if f.op == "has" and f.value in ("link", "code"):
        return _indexed(str(f.value)), []
    if f.op == "has":  # reaction
        return "m.id IN (SELECT r.message_id FROM chat_reaction r)", []
    if f.value == "thread":
        return _indexed("thread"), []
    # is:mentioned: named with @username, or an @room by someone else.
    room_mention = _indexed("room_mention")
    sql = ("(m.id IN (SELECT x.message_id FROM chat_mention x WHERE x.user_id = %s) "  # noqa: S608
           "OR (" + room_mention + " AND m.author_id <> %s))")
    return sql, [user.id, user.id]


def build(user: User, parsed: ParsedQuery) -> Plan:
    """Resolve operators against the database; raise InvalidInput for unknown names."""
    rooms = _rooms(user, parsed, readable_room_ids(user))
    plan = Plan(terms=list(parsed.terms), room_ids=sorted(rooms), hints=list(parsed.hints))
    if not rooms:
        return plan
    plan.add(f"m.room_id IN ({_placeholders(plan.room_ids)})", *plan.room_ids)
    plan.add("NOT m.deleted")
    for negated in (False, True):
        authors = _authors(parsed, negated)
        if authors:
            op = "NOT IN" if negated else "IN"
            plan.add(f"m.author_id {op} ({_placeholders(authors)})", *authors)
            plan.selective_filter |= not negated
    for f in parsed.filters:
        if f.op in ("in", "from"):
            continue
        if f.op in ("before", "after", "on"):
            sql, params = _date_condition(f)
            plan.upper_date_bound |= f.op != "after" and not f.negated
        else:
            sql, params = _flag_condition(f, user)
            # has:reaction and is:mentioned are semi-joins on other tables, best
            # left to the planner's usual per-row index probes.
            indexed = f.value in ("link", "code", "thread")
            plan.selective_filter |= indexed and not f.negated
        plan.add(f"NOT {sql}" if f.negated else sql, *params)
    return plan


def room_share(room_ids: list[int]) -> float:
    """The share of all messages that were posted in these rooms (a room's last
    seq counts its messages), for sizing plans: exact enough, and a few hundred
    rows to read, where the planner's own guess for `room_id IN (...)` comes
    from a sample (a list of all 200 rooms was estimated to hold 62% of them)."""
    if not room_ids:
        return 0.0
    params: list = [room_ids]
    cond = "id = ANY(%s)"  # one array parameter: binding 200 placeholders costs more
    if connection.vendor != "postgresql":
        cond, params = f"id IN ({_placeholders(room_ids)})", list(room_ids)
    sql = ("SELECT COALESCE(SUM(CASE WHEN " + cond + " THEN last_seq END), 0), "  # noqa: S608
           "COALESCE(SUM(last_seq), 0) FROM chat_room")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        scope, total = cursor.fetchone()
    return min(1.0, float(scope) / float(total)) if total else 1.0


def like_pattern(text: str) -> str:
    """A LIKE pattern matching text anywhere, with \\ as the escape character."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
