"""PostgreSQL: stored tsvector + GIN for words, pg_trgm GIN for ops substrings."""

from __future__ import annotations

from django.conf import settings
from django.db import connection, transaction

from ..plan import Plan, like_pattern
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

    def _ids(self, plan: Plan, sql: str, params: list) -> list[int]:
        if not (plan.selective_filter and self._combine(plan)):
            return [r[0] for r in run(sql, params)]
        # Left to itself the planner walks the filter's partial index and reads
        # every row it names from the heap to test the text (33,000 pages for
        # `connection has:link` at 1M, 76 ms). Without plain index scans it
        # ANDs the two index bitmaps and reads only the rows in both (27 ms).
        # SET LOCAL lasts to the end of the outermost transaction, so when the
        # caller already holds one (a bot, a test) the old value is put back.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('enable_indexscan')")
            (before,), = cursor.fetchall()
            cursor.execute("SET LOCAL enable_indexscan = off")
            try:
                cursor.execute(sql, params)
                return [r[0] for r in cursor.fetchall()]
            finally:
                cursor.execute("SELECT set_config('enable_indexscan', %s, true)", [before])

    def _newest(self, plan: Plan, where: list[str], params: list, limit: int) -> list[int]:
        sql = (f"SELECT m.id FROM chat_message m WHERE {' AND '.join(where)} "
               f"ORDER BY {self._newest_first(plan)} LIMIT %s")
        return self._ids(plan, sql, [*params, limit])

    @staticmethod
    def _misestimated(plan: Plan) -> bool:
        """Phrases and ILIKE substrings: the planner's match estimates for them are
        far too low (`"connection refused"`: 3,575 estimated, 50,210 real;
        `/var/log/nginx`: 101 and 16,719), so it fetches every match from all
        over the table and sorts them (49 ms for a page of `/var/log/nginx`,
        330 ms for the phrase's ranked candidates at 1M). Searching the newest
        ids first, in windows growing 4x, bounds the read to the newest pages."""
        if plan.upper_date_bound:
            return False
        return any(t.kind in (TermKind.PHRASE, TermKind.SUBSTRING) and not t.negated
                   for t in plan.terms)

    def _windowed(self, plan: Plan, upper: int, limit: int, per_row: int) -> list[int]:
        """The newest `limit` matches with id <= upper, window by window."""
        ids: list[int] = []
        size = max(1, int(per_row * limit))
        while upper > 0 and len(ids) < limit:
            lower = max(0, upper - size)
            ids += self._newest(plan, [*plan.where, "m.id <= %s", "m.id > %s"],
                                [*plan.params, upper, lower], limit - len(ids))
            upper, size = lower, size * 4
        return ids

    def recent_ids(self, plan: Plan, *, before_id: int | None, limit: int) -> list[int]:
        if self._misestimated(plan):
            upper = before_id - 1 if before_id is not None else _newest_id()
            return self._windowed(plan, upper, limit, RECENT_WINDOW_PER_ROW)
        where, params = list(plan.where), list(plan.params)
        if before_id is not None:
            where.append("m.id < %s")
            params.append(before_id)
        return self._newest(plan, where, params, limit)

    def ranked_ids(self, plan: Plan, *, max_id: int, offset: int, limit: int,
                   candidates: int) -> list[int]:
        """Rank the newest `candidates` matches, for phrases found window by window.

        The newest matches lie in the last pages of the table, but a phrase's
        match count is badly underestimated (`"connection refused"`: 3,575
        estimated, 50,210 real), so the planner fetches all of its matches
        from all over the table and sorts them (330 ms at 1M). Looking first
        only at the last RANK_WINDOW_PER_CANDIDATE x candidates ids bounds that
        read to the newest pages (36 ms); only when the window holds too few
        matches are older, growing windows searched, for the remainder. Words
        are estimated well from their own statistics and take one statement."""
        if self.tsquery is None:
            # Nothing to rank by: the newest first, and the scan stops at the page.
            if self._misestimated(plan):
                return self._windowed(plan, max_id, offset + limit,
                                      RECENT_WINDOW_PER_ROW)[offset:]
            where, params = [*plan.where, "m.id <= %s"], [*plan.params, max_id]
            return self._newest(plan, where, params, offset + limit)[offset:]
        if not self._misestimated(plan):
            return self._ranked(plan, [*plan.where, "m.id <= %s"], [*plan.params, max_id],
                                offset=offset, limit=limit, candidates=candidates)
        ids = self._windowed(plan, max_id, candidates, RANK_WINDOW_PER_CANDIDATE)
        if not ids:
            return []
        return self._ranked(plan, ["m.id = ANY(%s)"], [ids], offset=offset, limit=limit,
                            candidates=candidates)

    def _ranked(self, plan: Plan, where: list[str], params: list, *, offset: int,
                limit: int, candidates: int) -> list[int]:
        """Rank the newest `candidates` rows meeting `where` in one statement."""
        inner = (f"SELECT m.id, m.search_tsv FROM chat_message m WHERE {' AND '.join(where)} "
                 f"ORDER BY {self._newest_first(plan)} LIMIT %s")
        sql = (f"SELECT c.id FROM ({inner}) c "
               "ORDER BY ts_rank(c.search_tsv, %s::tsquery) DESC, c.id DESC LIMIT %s OFFSET %s")
        return self._ids(plan, sql, [*params, candidates, self.tsquery, limit, offset])

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
