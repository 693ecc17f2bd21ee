"""SQLite: FTS5 (Porter) for words, an FTS5 trigram table for ops substrings.

The table that holds the query's positive text terms drives the search
(CROSS JOIN keeps it the outer loop), so FTS5 hands out matches newest first
and the scan stops at the page size. The word table also holds each message's
room as a token in its own column: the words are matched in the body column
only, and a search in a few rooms adds the rooms' tokens, so FTS5 intersects
the two instead of the matches being walked one by one for their room.
"""

from __future__ import annotations

import json

from ..plan import Plan, like_pattern, room_share
from ..query import Term, TermKind
from ..schema import ROOM_COLUMN, room_token
from . import MARK_END, MARK_START, newest_id, run

# Room tokens join the words' MATCH for a search in one room, or in a few rooms
# holding a small share of all messages. One room's token list is intersected
# by seeking (`connection in:#room-004` at 1M messages: 0.7 ms in FTS5, where
# walking the word's 63,000 matches for their room took 45 ms). Several rooms
# are an OR, which FTS5 merges posting by posting (20 rooms with 10% of the
# messages: 13 ms), more than walking a rarer word's matches would cost.
ROOM_TOKENS_MAX_ROOMS = 20
ROOM_TOKENS_MAX_SHARE = 0.05
# bm25 weights per column: the body counts, the room token does not.
BM25 = "bm25(search_fts, 1.0, 0.0)"


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _fts_string(t: Term) -> str:
    return _quote(t.text) + ("*" if t.kind is TermKind.PREFIX else "")


def _expr(pos: list[str], neg: list[str]) -> str:
    return " AND ".join(pos) + "".join(f" NOT {n}" for n in neg)


def _body(expr: str) -> str:
    """Words match the body column only, never a room token (`r12`, `r1*`)."""
    return f"{{body}} : ({expr})"


def room_terms(plan: Plan) -> str | None:
    """`{room} : ("r4" OR "r9")` for a search in one room or a few small ones, else None."""
    rooms = plan.room_ids
    if not rooms or len(rooms) > ROOM_TOKENS_MAX_ROOMS:
        return None
    if len(rooms) > 1 and room_share(plan) > ROOM_TOKENS_MAX_SHARE:
        return None
    tokens = " OR ".join(_quote(room_token(r)) for r in rooms)
    return f"{{{ROOM_COLUMN}}} : ({tokens})"


class SqliteBackend:
    def __init__(self) -> None:
        self.driver: tuple[str, str] | None = None  # (table, match expression)
        self.fts_positive: str | None = None

    def newest_id(self) -> int:
        return newest_id()

    def prepare(self, plan: Plan) -> None:
        groups: dict[str, tuple[list[str], list[str]]] = {
            "search_fts": ([], []), "search_trgm": ([], [])}
        for t in plan.terms:
            if t.full_text:
                table, text = "search_fts", _fts_string(t)
            elif len(t.text) >= 3:
                table, text = "search_trgm", _quote(t.text)
            else:
                # The trigram index cannot find fewer than 3 characters: scan.
                op = "NOT LIKE" if t.negated else "LIKE"
                plan.add(f"m.body {op} %s ESCAPE '\\'", like_pattern(t.text))
                continue
            groups[table][1 if t.negated else 0].append(text)
        rooms = room_terms(plan) if groups["search_fts"][0] else None
        for table, (pos, neg) in groups.items():
            words = table == "search_fts"
            if pos:
                expr = _body(_expr(pos, neg)) if words else _expr(pos, neg)
                if words and rooms:
                    expr = f"{expr} AND {rooms}"
            else:
                expr = _body(" OR ".join(neg)) if words else " OR ".join(neg)
            if pos and self.driver is None:
                self.driver = (table, expr)
            elif pos:
                plan.add(f"m.id IN (SELECT rowid FROM {table} WHERE {table} MATCH %s)", expr)
            elif neg:
                plan.add(f"m.id NOT IN (SELECT rowid FROM {table} WHERE {table} MATCH %s)",
                         expr)
        fts_pos = groups["search_fts"][0]
        if fts_pos:
            self.fts_positive = _body(" AND ".join(fts_pos))

    def matches_nothing(self) -> bool:
        return False

    def _from(self, plan: Plan, extra: list[str], extra_params: list, *,
              text_drives: bool = True) -> tuple[str, list, str]:
        where, params = [*plan.where, *extra], [*plan.params, *extra_params]
        if self.driver is not None and not text_drives:
            table, expr = self.driver
            # `+m.id`: not a list of rowids to look up (all the text matches), but
            # a set to test while the filter's index is walked newest first.
            where.append(f"+m.id IN (SELECT rowid FROM {table} WHERE {table} MATCH %s)")
            params.append(expr)
        if self.driver is None or not text_drives:
            return f"chat_message m WHERE {' AND '.join(where)}", params, "m.id"
        table, expr = self.driver
        sql = (f"{table} f CROSS JOIN chat_message m ON m.id = f.rowid "
               f"WHERE {table} MATCH %s AND {' AND '.join(where)}")
        return sql, [expr, *params], "f.rowid"

    def recent_ids(self, plan: Plan, *, before_id: int | None, limit: int) -> list[int]:
        # A from:/has:/is: filter with its own index may reject nearly every match
        # of a common word (`refused has:link`: all 50,000 at 1M messages); the
        # text index then hands out matches newest first for nothing. Walking the
        # filter's index instead, checking each row against the set of text
        # matches, is bounded by the smaller of the two (_ranked_filter_first
        # does the same for relevance).
        text_drives = not plan.selective_filter
        key = "f.rowid" if self.driver and text_drives else "m.id"
        extra, extra_params = ([f"{key} < %s"], [before_id]) if before_id is not None else ([], [])
        if plan.id_ceiling is not None:  # before:/on: (see plan.id_ceiling)
            extra.append(f"{key} <= %s")
            extra_params.append(plan.id_ceiling)
        source, params, key = self._from(plan, extra, extra_params, text_drives=text_drives)
        sql = f"SELECT {key} FROM {source} ORDER BY {key} DESC LIMIT %s"
        return [r[0] for r in run(sql, [*params, limit])]

    def ranked_ids(self, plan: Plan, *, max_id: int, offset: int, limit: int,
                   candidates: int) -> list[int]:
        if plan.selective_filter and self.driver is not None:
            return self._ranked_filter_first(plan, max_id=max_id, offset=offset, limit=limit,
                                             candidates=candidates)
        key = "f.rowid" if self.driver else "m.id"
        source, params, key = self._from(plan, [f"{key} <= %s"], [max_id])
        if self.driver is not None and self.driver[0] == "search_fts":
            score = BM25
            order = "c.score, c.id DESC"  # bm25: lower is better
        else:
            score, order = "0", "c.id DESC"
        inner = (f"SELECT {key} AS id, {score} AS score FROM {source} "
                 f"ORDER BY {key} DESC LIMIT %s")
        sql = f"SELECT c.id FROM ({inner}) c ORDER BY {order} LIMIT %s OFFSET %s"
        return [r[0] for r in run(sql, [*params, candidates, limit, offset])]

    def _ranked_filter_first(self, plan: Plan, *, max_id: int, offset: int, limit: int,
                             candidates: int) -> list[int]:
        """The same candidates (the newest matches) found the way recent_ids finds
        them with a selective filter, then ranked by FTS5's bm25 over the span of
        rowids they cover: the text-driven scan would read every match of a
        common word the filter rejects (`connection has:link`: 76 ms at 1M, for
        no result); here that costs nothing, and at worst (candidates spread
        over the whole table) one pass over the word's matches, as before."""
        assert self.driver is not None
        source, params, key = self._from(plan, ["m.id <= %s"], [max_id], text_drives=False)
        table, expr = self.driver
        # Nothing to rank by without the word index: newest first, up to the page.
        wanted = candidates if table == "search_fts" else offset + limit
        ids = [r[0] for r in run(f"SELECT {key} FROM {source} ORDER BY {key} DESC LIMIT %s",
                                 [*params, wanted])]
        if not ids or table != "search_fts":
            return ids[offset:offset + limit]
        # FTS5 answers `rowid IN (...)` one rowid at a time, reloading the word's
        # matches each time (0.5 s for 2,000 candidates); a rowid range is one
        # seek and a scan, and `+rowid` keeps the set test out of FTS5.
        sql = (f"SELECT rowid FROM {table} WHERE {table} MATCH %s "
               f"AND rowid BETWEEN %s AND %s "
               f"AND +rowid IN (SELECT value FROM json_each(%s)) "
               f"ORDER BY {BM25}, rowid DESC LIMIT %s OFFSET %s")
        return [r[0] for r in run(sql, [expr, min(ids), max(ids), json.dumps(ids), limit,
                                        offset])]

    def snippet_sql(self, plan: Plan) -> tuple[str, list] | None:
        if self.fts_positive is None:
            return None
        return ("(SELECT snippet(search_fts, 0, %s, %s, '…', 24) FROM search_fts "
                'WHERE search_fts MATCH %s AND search_fts.rowid = "chat_message"."id")',
                [MARK_START, MARK_END, self.fts_positive])
