"""PostgreSQL: stored tsvector + GIN for words, pg_trgm GIN for ops substrings."""

from __future__ import annotations

import json

from django.conf import settings
from django.db import connection, transaction

from ..plan import Plan, like_pattern, room_share
from ..query import TermKind
from . import MARK_END, MARK_START, run

_FUNCS = {TermKind.WORD: "plainto_tsquery", TermKind.PHRASE: "phraseto_tsquery",
          TermKind.PREFIX: "to_tsquery"}
_LT, _AMP = "\ue002", "\ue003"
# Phrases and substrings are looked for among the newest ids first: 25 ids per
# ranking candidate (50,000 with the default 2,000: a 4% phrase fills it), or
# 2,000 ids per result row for a newest-first page (42,000 for a page of 20).
RANK_WINDOW_PER_CANDIDATE = 25
RECENT_WINDOW_PER_ROW = 2000
# Phrase and substring windows grow with the rooms' share of the messages for a
# search in at most this many rooms, ranked or a page (see _scoped_window).
RANK_SCOPED_ROOMS, PAGE_SCOPED_ROOMS = 20, 5
# A window sized from a density is made this much larger, so that one usually
# suffices; a density is trusted from this many matches on.
WINDOW_MARGIN = 1.25
DENSITY_FROM = 20
# Words whose window would hold more than this share of the ids are ranked from
# the whole table in one statement (the planner reads just their rows): the
# primary key range of a larger window costs more than it saves (half of 1M
# ids: 25 ms, `bridorgargar`, 0.5% of messages: 20 -> 41 ms).
WINDOW_AT_MOST = 0.25
# Words in at least this share of the messages are also left to one statement:
# the planner walks the newest ids, and the walk is short (50,000 rows for the
# candidates at 4%; 18 ms for a 5% word at 1M messages, 25 ms through a window).
WALK_ABOVE_DENSITY = 0.04
# Planner settings for search statements that read many rows (see PostgresBackend._rows).
SEARCH_SETTINGS = {"max_parallel_workers_per_gather": "0", "jit": "off"}
HEADLINE_OPTIONS = (f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=35, MinWords=15, "
                    "ShortWord=2")


def _newest_id() -> int:
    (newest,), = run("SELECT COALESCE(MAX(id), 0) FROM chat_message", [])
    return int(newest)


class PostgresBackend:
    def __init__(self) -> None:
        self.config = settings.CHAT["SEARCH_CONFIG"]
        self.tsquery: str | None = None
        self._nothing = False

    def prepare(self, plan: Plan) -> None:
        parts: list[str] = []
        params: list = []
        for t in plan.terms:
            if not t.full_text:
                pattern = like_pattern(t.text)
                plan.add("m.body NOT ILIKE %s" if t.negated else "m.body ILIKE %s", pattern)
                continue
            text = f"{t.text}:*" if t.kind is TermKind.PREFIX else t.text
            expr = f"{_FUNCS[t.kind]}(%s::regconfig, %s)"
            parts.append(f"(!! {expr})" if t.negated else expr)
            params += [self.config, text]
        if not parts:
            return
        # Normalize once: stop words drop out here and the result is reused as text.
        (tsquery,), = run(f"SELECT ({' && '.join(parts)})::text", params)
        if tsquery:
            self.tsquery = tsquery
            plan.add("m.search_tsv @@ %s::tsquery", tsquery)
        else:
            words = ", ".join(t.text for t in plan.terms if t.full_text)
            plan.hints.append(f"Too common to search for: {words}.")
            # Nothing left to look for unless another term or operator narrows it.
            self._nothing = not plan.substrings and len(plan.where) <= 2

    def matches_nothing(self) -> bool:
        return self._nothing

    def _newest_first(self, plan: Plan) -> str:
        """Walking the id index backwards finds the newest matches at once, unless a
        date bound puts them far back: the planner, assuming matches are spread
        evenly, would still walk from the end (47 ms instead of 4.5 ms at 100k
        messages). `id + 0` makes it combine the text and date indexes instead.

        The same holds for text plus a from:/has:/is: filter: the planner takes
        the two as independent, but a filter may reject nearly every match of a
        common word (`connection has:link`: none of 50,000), and the backwards
        walk then reads all of them (669 ms at 1M). Intersecting the text index
        with the filter's own index costs at most the sizes of the two."""
        return "m.id + 0 DESC" if self._combine(plan) else "m.id DESC"

    def _combine(self, plan: Plan) -> bool:
        has_text = self.tsquery is not None or bool(plan.substrings)
        return plan.upper_date_bound or (plan.selective_filter and has_text)

    def _rows(self, plan: Plan, sql: str, params: list, *, many: bool = True) -> list[tuple]:
        """Run a search statement with the planner settings searches need.

        A statement that may read `many` rows (thousands: ranking candidates,
        windows) runs without parallel workers or JIT: starting workers (a
        Gather Merge over the backward walk: 16 -> 28 ms for `connection` at
        1M messages) or compiling costs more than it saves, on a machine also
        serving sends. A page of newest matches or a rare word's candidates
        runs as it is (the settings cost 0.4 ms a statement). Text plus a
        selective filter also turns plain index scans off: left to itself the
        planner walks the filter's partial index and reads every row it names
        from the heap to test the text (33,000 pages for `connection has:link`
        at 1M, 76 ms); without them it ANDs the two index bitmaps and reads
        only the rows in both (27 ms).

        SET LOCAL lasts to the end of the outermost transaction, so when the
        caller already holds one (a bot, a test) the old values are put back."""
        changes = dict(SEARCH_SETTINGS) if many else {}
        if plan.selective_filter and self._combine(plan):
            changes = {**SEARCH_SETTINGS, "enable_indexscan": "off"}
        if not changes:
            return run(sql, params)
        names = list(changes)
        nested = connection.in_atomic_block
        with transaction.atomic(), connection.cursor() as cursor:
            sets = ", ".join(f"current_setting('{n}'), set_config('{n}', %s, true)" for n in names)
            cursor.execute(f"SELECT {sets}", [changes[n] for n in names])
            before = cursor.fetchone()[0::2]
            try:
                cursor.execute(sql, params)
                return cursor.fetchall()
            finally:
                if nested:
                    restore = ", ".join(f"set_config('{n}', %s, true)" for n in names)
                    cursor.execute(f"SELECT {restore}", list(before))

    def _newest(self, plan: Plan, where: list[str], params: list, limit: int) -> list[int]:
        sql = (f"SELECT m.id FROM chat_message m WHERE {' AND '.join(where)} "
               f"ORDER BY {self._newest_first(plan)} LIMIT %s")
        return [r[0] for r in self._rows(plan, sql, [*params, limit], many=False)]

    @staticmethod
    def _misestimated(plan: Plan) -> bool:
        """Phrases and ILIKE substrings: the planner's match estimates for them are
        far too low (`"connection refused"`: 3,575 estimated, 50,210 real;
        `/var/log/nginx`: 101 and 16,719), so it fetches every match from all
        over the table and sorts them (49 ms for a page of `/var/log/nginx`,
        330 ms for the phrase's ranked candidates at 1M). Searching the newest
        ids first, window by window, bounds the read to the newest pages."""
        if plan.upper_date_bound:
            return False
        return any(t.kind in (TermKind.PHRASE, TermKind.SUBSTRING) and not t.negated
                   for t in plan.terms)

    def _windowed(self, plan: Plan, upper: int, need: int, size: int, *,
                  rank: bool = False, many: bool = True) -> list[tuple]:
        """(id,), or with `rank` (id, rank), for the newest `need` matches with
        id <= upper, newest first, looked for window by window until `need`
        rows are found or ids run out: the first `size` ids, then each window
        4x larger for a page, and for ranking candidates a window sized from
        the density of matches seen so far, or 8x larger while too few were
        seen to tell. (A page's windows grow 4x as before: sized from a
        density, the larger windows let the planner walk far for a phrase it
        expects in many rows, `"deploy test"`: 20 -> 43 ms.)
        Each window is one statement, a bitmap AND of the text index with the
        primary key range when the planner finds that cheapest."""
        rows: list[tuple] = []
        top = upper
        size = max(1, size)
        while upper > 0 and len(rows) < need:
            lower = max(0, upper - size)
            sql = (f"SELECT m.id{', m.search_tsv' if rank else ''} FROM chat_message m "
                   f"WHERE {' AND '.join([*plan.where, 'm.id <= %s', 'm.id > %s'])} "
                   f"ORDER BY {self._newest_first(plan)} LIMIT %s")
            params = [*plan.params, upper, lower, need - len(rows)]
            if rank:  # ranks for the rows found only, not for every row the scan read
                sql = f"SELECT c.id, ts_rank(c.search_tsv, %s::tsquery) FROM ({sql}) c"
                params = [self.tsquery, *params]
            rows += self._rows(plan, sql, params, many=many)
            upper = lower
            if rank and len(rows) >= DENSITY_FROM:
                size = int((need - len(rows)) * (top - upper) / len(rows) * WINDOW_MARGIN) + 1
            else:
                size *= 8 if rank else 4
        return rows

    def _newest_ids(self, plan: Plan, upper: int, need: int, per_row: int) -> list[int]:
        """A page of newest matches, window by window: each window reads its
        matches only up to the page, so it runs as it is (see _rows)."""
        size = self._scoped_window(plan, per_row * need, PAGE_SCOPED_ROOMS)
        return [r[0] for r in self._windowed(plan, upper, need, size, many=False)]

    @staticmethod
    def _scoped_window(plan: Plan, size: int, rooms: int) -> int:
        """A first window for a phrase or substring, made as much larger as the
        searcher's rooms (at most `rooms` of them) hold less of the messages:
        in one room of 200 the window of all ids is a bitmap AND with the
        room's own index, where windows sized for all rooms held a dozen
        matches each and each one read the whole posting lists again
        (`"connection refused" in:#room-004`: 47 -> 20 ms ranked, 25 -> 18 ms
        for a page; the guest's 20 rooms: 71 -> 28 ms ranked). A page in a
        wider scope keeps its window: a page of a common phrase needs few
        ids, and the larger window read 10x the matches (guest: 15 -> 22 ms)."""
        if len(plan.room_ids) > rooms:
            return size
        return int(size / max(room_share(plan.room_ids), 1e-6))

    def recent_ids(self, plan: Plan, *, before_id: int | None, limit: int) -> list[int]:
        if self._misestimated(plan):
            upper = before_id - 1 if before_id is not None else _newest_id()
            return self._newest_ids(plan, upper, limit, RECENT_WINDOW_PER_ROW)
        where, params = list(plan.where), list(plan.params)
        if before_id is not None:
            where.append("m.id < %s")
            params.append(before_id)
        return self._newest(plan, where, params, limit)

    def ranked_ids(self, plan: Plan, *, max_id: int, offset: int, limit: int,
                   candidates: int) -> list[int]:
        """Rank the newest `candidates` matches with id <= max_id; return a slice.

        The newest matches lie in the last pages of the table, but left to
        itself the planner reads them in one of two costly ways: walking the
        id index backwards, testing every row, until `candidates` matches are
        found (92,000 rows and 10,600 buffers for `staging`, a 2.3% word,
        at 1M messages: 25-110 ms), or fetching every match from all over the
        table and sorting them (a phrase, whose count it underestimates 15x:
        330 ms). Instead the candidates are looked for in a window of the
        newest ids just large enough to hold them, a bitmap AND of the text
        index and the id range that reads only the matching rows (about 2,000
        heap pages). The window comes from the planner's estimate for words,
        which is close; phrases and substrings start from a fixed window.
        One statement ranks the window's matches and says how many it held;
        only when they were too few are older windows searched."""
        if self.tsquery is None:
            # Nothing to rank by: the newest first, and the scan stops at the page.
            if self._misestimated(plan):
                return self._newest_ids(plan, max_id, offset + limit,
                                        RECENT_WINDOW_PER_ROW)[offset:]
            where, params = [*plan.where, "m.id <= %s"], [*plan.params, max_id]
            return self._newest(plan, where, params, offset + limit)[offset:]
        many = True
        if self._misestimated(plan):
            size = self._scoped_window(plan, RANK_WINDOW_PER_CANDIDATE * candidates,
                                       RANK_SCOPED_ROOMS)
        elif self._combine(plan):
            size = max_id  # a date bound or a selective filter: the two indexes combined
        else:
            size, many = self._window_for(plan, max_id, candidates)
        lower = max(0, max_id - size)
        found, page, held = self._ranked(plan, max_id, lower, offset=offset, limit=limit,
                                         candidates=candidates, many=many)
        if found >= candidates or lower == 0:
            return page
        # The window held too few: look further back, window by window (the
        # first sized by the density seen), and rank them all here.
        need = candidates - found
        size = int(need * size / found * WINDOW_MARGIN) + 1 if found >= DENSITY_FROM else size * 8
        held += self._windowed(plan, lower, need, size, rank=True)
        held.sort(key=lambda r: (-r[1], -r[0]))
        return [r[0] for r in held[offset:offset + limit]]

    def _window_for(self, plan: Plan, max_id: int, candidates: int) -> tuple[int, bool]:
        """Ids to look through for `candidates` matches, at the estimated density
        (ids are dense enough), and whether that means many rows. A word too
        rare to fill the candidates from a part of the table, or so common
        that the newest ids hold them close together, gets the whole table,
        as one statement. So does a prefix: the text index collects the ids
        of every word it starts, at 3x the cost per id (`erro*`: 9 ms for
        27,000), so the bitmap saves nothing over the walk (20 ms each)."""
        enough = candidates * WINDOW_MARGIN / WINDOW_AT_MOST  # matches for such a window
        estimate = self._estimate(plan, enough)
        if estimate < enough:
            return max_id, False
        prefix = any(t.kind is TermKind.PREFIX and not t.negated for t in plan.terms)
        if prefix or estimate >= max_id * WALK_ABOVE_DENSITY:
            return max_id, True
        return int(candidates * max_id / estimate * WINDOW_MARGIN) + 1, True

    def _estimate(self, plan: Plan, enough: float) -> float:
        """The matches in the searcher's rooms: the planner's estimate for the text
        alone (close for words: 22,600 real, 23,200 estimated for `staging`),
        times the rooms' share of the messages when the text alone is more than
        `enough`. The planner's own guess for the room list comes from a sample
        and may be far off (all 200 rooms of the benchmark: 62% of the rows)."""
        (doc,), = run("EXPLAIN (FORMAT JSON) SELECT 1 FROM chat_message m "
                      "WHERE m.search_tsv @@ %s::tsquery", [self.tsquery])
        tree = json.loads(doc) if isinstance(doc, str) else doc
        estimate = float(tree[0]["Plan"]["Plan Rows"])
        return estimate * room_share(plan.room_ids) if estimate > enough else estimate

    def _ranked(self, plan: Plan, upper: int, lower: int, *, offset: int, limit: int,
                candidates: int, many: bool) -> tuple[int, list[int], list[tuple]]:
        """Rank the newest `candidates` matches with lower < id <= upper in one
        statement. Return how many there were, the page's ids, and, when they
        were fewer than `candidates`, every (id, rank) for ranking with more."""
        where, params = [*plan.where, "m.id <= %s"], [*plan.params, upper]
        if lower > 0:
            where.append("m.id > %s")
            params.append(lower)
        inner = (f"SELECT m.id, m.search_tsv FROM chat_message m "
                 f"WHERE {' AND '.join(where)} ORDER BY {self._newest_first(plan)} LIMIT %s")
        # Ranks for the candidates only, not for every row the scan read.
        ranked = f"SELECT c.id, ts_rank(c.search_tsv, %s::tsquery) AS r FROM ({inner}) c"
        # Every (id, rank) only where older windows may follow (lower > 0).
        held = ("CASE WHEN count(*) < %s THEN array_agg(c.id) END, "
                "CASE WHEN count(*) < %s THEN array_agg(c.r) END" if lower > 0 else "NULL, NULL")
        sql = ("SELECT count(*), (array_agg(c.id ORDER BY c.r DESC, c.id DESC))[%s::int:%s::int], "
               f"{held} FROM ({ranked}) c")
        (found, page, ids, ranks), = self._rows(plan, sql, [
            offset + 1, offset + limit, *([candidates] * 2 if lower > 0 else []), self.tsquery,
            *params, candidates], many=many)
        return found, page or [], list(zip(ids or [], ranks or [], strict=True))

    def snippets(self, plan: Plan, ids: list[int]) -> dict[int, str]:
        if self.tsquery is None or not ids:
            return {}
        marks = ", ".join(["%s"] * len(ids))
        # ts_headline's parser drops what looks like HTML tags; hide "<" and "&"
        # from it (and any marker characters the body may hold), restore after.
        text = "replace(replace(replace(replace(body, %s, ''), %s, ''), '<', %s), '&', %s)"
        sql = (f"SELECT id, ts_headline(%s::regconfig, {text}, %s::tsquery, %s) "
               f"FROM chat_message WHERE id IN ({marks})")
        rows = run(sql, [self.config, MARK_START, MARK_END, _LT, _AMP, self.tsquery,
                         HEADLINE_OPTIONS, *ids])
        return {i: h.replace(_LT, "<").replace(_AMP, "&") for i, h in rows}
