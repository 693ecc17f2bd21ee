"""One interface, two engines. Each backend matches the text terms with its own
indexes; the rest of the query (access, operators) is shared SQL from plan.py."""

from __future__ import annotations

from typing import Protocol

from django.db import connection

from ..plan import Plan

# Private-use characters mark highlighted words in raw snippets; the caller
# escapes the text and turns them into <mark> tags.
MARK_START, MARK_END = "\ue000", "\ue001"


class Backend(Protocol):
    def prepare(self, plan: Plan) -> None:
        """Add the text-matching conditions to the plan (may add hints)."""

    def matches_nothing(self) -> bool:
        """True when the text terms can match nothing (say, only stop words)."""

    def newest_id(self) -> int:
        """The newest message id: where a ranked search's pages start."""

    def recent_ids(self, plan: Plan, *, before_id: int | None, limit: int) -> list[int]:
        """Matching message ids, newest first."""

    def ranked_ids(self, plan: Plan, *, max_id: int, offset: int, limit: int,
                   candidates: int) -> list[int]:
        """Rank the newest `candidates` matches with id <= max_id; return a slice."""

    def snippet_sql(self, plan: Plan) -> tuple[str, list] | None:
        """An SQL expression over the "chat_message" row for its raw snippet, with
        MARK_START/MARK_END around matched words; None without words to mark.
        It is read with the page's messages, so only the page pays for it."""


def for_connection() -> Backend:
    if connection.vendor == "postgresql":
        from .postgres import PostgresBackend

        return PostgresBackend()
    from .sqlite import SqliteBackend

    return SqliteBackend()


# The newest message id, as an expression (PostgreSQL reads it with the query's
# normalized text).
NEWEST_ID = "(SELECT COALESCE(MAX(id), 0) FROM chat_message)"


def newest_id() -> int:
    (newest,), = run(f"SELECT {NEWEST_ID}", [])
    return int(newest)


def run(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
