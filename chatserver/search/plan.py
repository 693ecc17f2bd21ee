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
from chatserver.chat.access import ReadableRooms, readable_rooms
from chatserver.chat.errors import InvalidInput
from chatserver.chat.models import Room

from .query import Filter, ParsedQuery, Term, TermKind
from .schema import FILTER_PREDICATES, OUT_OF_TIME, OUT_OF_TIME_SLACK_HOURS


@dataclass
class Plan:
    """What to search: text terms for the backend, SQL for the rest (alias m = chat_message)."""

    terms: list[Term]
    room_ids: list[int]
    # Rooms the searcher is a member of (results say whether they joined).
    joined: frozenset[int] = frozenset()
    # The searched rooms are every room there was (room_share is 1).
    all_rooms: bool = False
    where: list[str] = field(default_factory=list)
    params: list = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    # A before:/on: bound: the newest matches are not at the end of the id index,
    # unless they are known to lie under id_ceiling (see id_ceiling()).
    upper_date_bound: bool = False
    id_ceiling: int | None = None
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


def _midnight(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def _day_start(d: date):
    return connection.ops.adapt_datetimefield_value(_midnight(d))


def _upper_bound(f: Filter) -> datetime | None:
    """Where a positive before:/on: ends: every match was created before it."""
    if f.op not in ("before", "on") or f.negated:
        return None
    assert isinstance(f.value, date)
    return _midnight(f.value + timedelta(days=1 if f.op == "on" else 0))


def _date_condition(f: Filter) -> tuple[str, list]:
    assert isinstance(f.value, date)
    start, end = _day_start(f.value), _day_start(f.value + timedelta(days=1))
    if f.op == "before":
        return "m.created_at < %s", [start]
    if f.op == "after":
        return "m.created_at >= %s", [end]
    return "(m.created_at >= %s AND m.created_at < %s)", [start, end]


def _rooms(user: User, parsed: ParsedQuery, readable: frozenset[int]) -> set[int]:
    def lookup(f: Filter) -> frozenset[int]:
        # By name, then the readable ones: a list of every readable room in the
        # statement cost more than the lookup (200 ids: 2 ms).
        found = readable.intersection(
            Room.objects.filter(name__iexact=f.value).values_list("id", flat=True))
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
    readable = readable_rooms(user)
    rooms = _rooms(user, parsed, readable.rooms)
    plan = Plan(terms=list(parsed.terms), room_ids=sorted(rooms), joined=readable.joined,
                hints=list(parsed.hints))
    if not rooms:
        return plan
    _add_rooms(plan, readable)
    plan.add("NOT m.deleted")
    for negated in (False, True):
        authors = _authors(parsed, negated)
        if authors:
            op = "NOT IN" if negated else "IN"
            plan.add(f"m.author_id {op} ({_placeholders(authors)})", *authors)
            plan.selective_filter |= not negated
    bounds: list[datetime] = []
    for f in parsed.filters:
        if f.op in ("in", "from"):
            continue
        if f.op in ("before", "after", "on"):
            sql, params = _date_condition(f)
            bound = _upper_bound(f)
            if bound is not None:
                bounds.append(bound)
        else:
            sql, params = _flag_condition(f, user)
            # has:reaction and is:mentioned are semi-joins on other tables, best
            # left to the planner's usual per-row index probes.
            indexed = f.value in ("link", "code", "thread")
            plan.selective_filter |= indexed and not f.negated
        plan.add(f"NOT {sql}" if f.negated else sql, *params)
    if bounds:
        plan.id_ceiling = id_ceiling(min(bounds))
        # Under the ceiling the newest matches are at the end again.
        plan.upper_date_bound = plan.id_ceiling is None
    return plan


def id_ceiling(before: datetime) -> int | None:
    """An id no message created before `before` exceeds, or None when none is known.

    A message written on time (see OUT_OF_TIME in schema.py) was written at most
    the slack after its created_at, and one created 3 x slack after `before`
    or later was written after that: the first such message, in created_at
    order, has a higher id than every message on time created before `before`.
    The out-of-time messages created before it are listed with their ids.
    Without a message that late (a date in the last hours) there is no ceiling."""
    late = before + timedelta(hours=3 * OUT_OF_TIME_SLACK_HOURS)
    adapt = connection.ops.adapt_datetimefield_value
    sql = (f"SELECT (SELECT m.id FROM chat_message m WHERE m.created_at >= %s AND NOT EXISTS "  # noqa: S608
           f"(SELECT 1 FROM {OUT_OF_TIME} o WHERE o.message_id = m.id) "
           "ORDER BY m.created_at LIMIT 1), "
           f"(SELECT MAX(message_id) FROM {OUT_OF_TIME} WHERE created_at < %s)")
    with connection.cursor() as cursor:
        cursor.execute(sql, [adapt(late), adapt(before)])
        on_time, out_of_time = cursor.fetchone()
    if on_time is None:
        return None
    return max(int(on_time), int(out_of_time or 0))


def _add_rooms(plan: Plan, readable: ReadableRooms) -> None:
    """The access condition, written as the shorter list: the rooms searched,
    or every room but the others. An admin in all 200 rooms of the benchmark
    has no list at all, where the list of 200 cost 1 ms to plan and 0.15 us
    a row. Rooms made after the list was read are left out by their ids."""
    others = sorted(readable.existing - set(plan.room_ids))
    plan.all_rooms = not others
    if len(others) >= len(plan.room_ids):
        plan.add(f"m.room_id IN ({_placeholders(plan.room_ids)})", *plan.room_ids)
        return
    plan.add("m.room_id <= %s", max(readable.existing))
    if others:
        plan.add(f"m.room_id NOT IN ({_placeholders(others)})", *others)


def room_share(plan: Plan) -> float:
    """The share of all messages that were posted in the searched rooms (a
    room's last seq counts its messages), for sizing plans: exact enough, and
    a few hundred rows to read, where the planner's own guess for
    `room_id IN (...)` comes from a sample (a list of all 200 rooms was
    estimated to hold 62% of them)."""
    room_ids = plan.room_ids
    if plan.all_rooms:
        return 1.0
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
