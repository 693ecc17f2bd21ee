"""Small SQL the ORM cannot say in one statement."""

from __future__ import annotations

from django.db import connection


def update_by_id(table: str, column: str, values: dict[int, int], *, add: bool = False,
                 returning: bool = False) -> list[tuple[int, int]]:
    """SET column = values[id] (or column + values[id] with add) for each id, in one
    UPDATE; with returning, answer (id, new value) rows.

    `table` and `column` come from code, never from input; the values are bound.
    """
    ids = sorted(values)
    if not ids:
        return []
    params: list[int] = []
    for key in ids:
        params += [key, values[key]]
    case = "CASE id " + " ".join(["WHEN %s THEN %s"] * len(ids)) + " END"
    expr = f"{column} + {case}" if add else case
    marks = ", ".join(["%s"] * len(ids))
    sql = f"UPDATE {table} SET {column} = {expr} WHERE id IN ({marks})"  # noqa: S608
    if returning:
        sql += f" RETURNING id, {column}"
    with connection.cursor() as cur:
        cur.execute(sql, params + ids)
        return [(int(a), int(b)) for a, b in cur.fetchall()] if returning else []


def lock_by_id(table: str, ids: list[int]) -> None:
    """SELECT ... FOR UPDATE in id order (PostgreSQL; SQLite has one writer anyway),
    so writers that touch several rows cannot deadlock."""
    if connection.vendor != "postgresql" or len(ids) < 2:
        return
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cur:
        cur.execute(f"SELECT id FROM {table} WHERE id IN ({marks}) ORDER BY id FOR UPDATE",  # noqa: S608
                    sorted(ids))
