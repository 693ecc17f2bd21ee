"""Small SQL the ORM cannot say in one statement."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django.db import connection
from django.db.models import Model


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


class ModelColumns:
    """Read rows of a model from hand-written SQL the way the ORM would.

    Compiling a queryset cost more than running it on the send path (py-spy:
    a third of a batch's CPU went to building and compiling the membership
    query). `select(alias)` gives the column list; `build(values)` a model
    instance from those columns, through the same database converters the
    ORM applies (SQLite booleans and datetimes, say).
    """

    def __init__(self, model: type[Model]):
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.attnames = [f.attname for f in self.fields]
        self._converters: list[tuple[int, list, Any]] | None = None

    def __len__(self) -> int:
        return len(self.fields)

    def select(self, alias: str) -> str:
        qn = connection.ops.quote_name
        return ", ".join(f"{alias}.{qn(cast(str, f.column))}" for f in self.fields)

    def build(self, values: Sequence[Any]) -> Model:
        if self._converters is None:  # per process; one database engine per process
            self._converters = []
            for i, f in enumerate(self.fields):
                col = f.get_col(self.model._meta.db_table)
                found = connection.ops.get_db_converters(col) + f.get_db_converters(connection)
                if found:
                    self._converters.append((i, found, col))
        if self._converters:
            values = list(values)
            for i, found, col in self._converters:
                for convert in found:
                    values[i] = convert(values[i], col, connection)
        return self.model.from_db(connection.alias, self.attnames, values)


def insert_returning_ids(objs: Sequence[Model]) -> None:
    """INSERT new rows of one model in one statement and set their ids, like
    bulk_create without compiling a query (one row: like save(force_insert))."""
    if not objs:
        return
    model = type(objs[0])
    if not connection.features.can_return_rows_from_bulk_insert:
        model.objects.bulk_create(objs)  # type: ignore[attr-defined]
        return
    meta = model._meta
    fields = [f for f in meta.concrete_fields
              if not f.primary_key and not getattr(f, "generated", False)]
    qn = connection.ops.quote_name
    params: list[Any] = []
    for obj in objs:
        params += [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    columns = ", ".join(qn(cast(str, f.column)) for f in fields)
    sql = (f"INSERT INTO {qn(meta.db_table)} ({columns}) "  # noqa: S608 - names from models
           f"VALUES {', '.join([row] * len(objs))} RETURNING {qn(cast(str, meta.pk.column))}")
    with connection.cursor() as cur:
        cur.execute(sql, params)
        ids = [r[0] for r in cur.fetchall()]
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
