"""PostgreSQL: stored tsvector + GIN for words, pg_trgm GIN for ops substrings."""

from __future__ import annotations

import json
import re

from django.conf import settings
from django.db import connection

from ..plan import Plan, like_pattern, room_share
from ..query import TermKind
from . import MARK_END, MARK_START, NEWEST_ID, newest_id, run

_FUNCS = {TermKind.WORD: "plainto_tsquery", TermKind.PHRASE: "phraseto_tsquery",
          TermKind.PREFIX: "to_tsquery"}
_LT, _AMP = "\ue002", "\ue003"
# Phrases and substrings are ranked from the newest ids first: 25 ids per
# candidate (50,000 with the default 2,000: a 4% phrase fills it).
RANK_WINDOW_PER_CANDIDATE = 25
# A newest-first page of a phrase or substring first reads up to this many of
# the searched rooms' newest messages per row, in order (see _newest_ids).
RECENT_WALK_PER_ROW = 100
# The window after a walk that found too few is sized from the few it found,
# so with a wide margin: a second window reads the posting lists again.
WALK_MARGIN = 2.0
# Fewer matches than this in a walk tell too little of the density: the rest is
# read at once (at most some WALK_TRUST matches per walk's worth of ids).
WALK_TRUST = 5
# Phrase and substring ranking windows grow with the rooms' share of the
# messages for a search in at most this many rooms (see _scoped_window).
RANK_SCOPED_ROOMS = 20
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
# A page of newest matches of a word in at least this share of the messages is
# left to the planner's walk back through the newest ids (see _page_window).
PAGE_WALK_DENSITY = 0.01
# Planner settings for search statements that read many rows (see PostgresBackend._rows).
SEARCH_SETTINGS = {"max_parallel_workers_per_gather": "0", "jit": "off"}
HEADLINE_OPTIONS = (f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=35, MinWords=15, "
                    "ShortWord=2")


# Trigrams with any of these are taken as distinctive: a digit (ids, hashes,
# addresses, versions) or a letter rare in text.
_DISTINCTIVE = frozenset("0123456789jqxz")
INDEX_TRIGRAMS = 3


def index_trigrams(text: str) -> list[str] | None:
    """Up to INDEX_TRIGRAMS distinct trigrams of the text's ASCII letter and digit
    runs (what pg_trgm indexes), the distinctive ones first and spread over
    the text, to find a substring's rows through the trigram index; None when
    no trigram is distinctive, and the whole text is given to the index."""
    grams = list(dict.fromkeys(
        run[i:i + 3] for run in re.findall(r"[a-z0-9]+", text.lower())
        for i in range(len(run) - 2)))
    distinctive = [g for g in grams if _DISTINCTIVE.intersection(g)]
    if not distinctive:
        return None
    # Every other one first: neighbours share two characters, so say as little.
    # Common trigrams only make up a pair: each one read costs its long list.
    picked = distinctive[::2] + distinctive[1::2]
    picked += [g for g in grams if g not in distinctive][:max(0, 2 - len(picked))]
    return picked[:INDEX_TRIGRAMS]



class PostgresBackend:
    def __init__(self) -> None:
        self.config = settings.CHAT["SEARCH_CONFIG"]
        self.tsquery: str | None = None
        self._nothing = False
        self._newest: int | None = None
        self._text_estimate: float | None = None

    def newest_id(self) -> int:
        """The newest message id (read with the text's normalized form when
        there is one, saving a round trip)."""
        if self._newest is None:
            self._newest = newest_id()
        return self._newest

    def prepare(self, plan: Plan) -> None:
        parts: list[str] = []
        params: list = []
        for t in plan.terms:
            if not t.full_text:
                self._substring(plan, t.text, t.negated)
                continue
            text = f"{t.text}:*" if t.kind is TermKind.PREFIX else t.text
            expr = f"{_FUNCS[t.kind]}(%s::regconfig, %s)"
            parts.append(f"(!! {expr})" if t.negated else expr)
            params += [self.config, text]
        if not parts:
            return
        # Normalize once: stop words drop out here and the result is reused as text.
        (tsquery, self._newest), = run(f"SELECT ({' && '.join(parts)})::text, {NEWEST_ID}",
                                       params)
        if tsquery:
            self.tsquery = tsquery
            plan.add("m.search_tsv @@ %s::tsquery", tsquery)
        else:
            words = ", ".join(t.text for t in plan.terms if t.full_text)
            plan.hints.append(f"Too common to search for: {words}.")
            # Nothing left to look for unless another term or operator narrows it.
            self._nothing = not plan.substrings and len(plan.where) <= 2

    @staticmethod
    def _substring(plan: Plan, text: str, negated: bool) -> None:
        """An ops token, case-insensitive, anywhere in the body.

        ASCII text is matched under the "C" collation, which folds ASCII case
        only (as SQLite's LIKE does) at a third of the cost a row (2,600 rows
        read: 6.5 -> 2.8 ms), and which the trigram index cannot serve: the
        index is given a few distinctive trigrams of the text instead (see
        index_trigrams), and this is the check on the rows they find. The
        trigram index scan reads the posting list of every trigram it is
        given, and the common ones are long (`edge-02b2.prod.internal`: 19 ms
        for its 20 trigrams, 0.3 ms for `02b` and `2b2`)."""
        pattern = like_pattern(text)
        if not text.isascii():
            plan.add("m.body NOT ILIKE %s" if negated else "m.body ILIKE %s", pattern)
            return
        plan.add(f"(m.body COLLATE \"C\") {'NOT ' if negated else ''}ILIKE %s", pattern)
        if negated:
            return
        grams = index_trigrams(text)
        if grams is None:  # nothing distinctive: the whole text for the index
            plan.add("m.body ILIKE %s", pattern)
            return
        for gram in grams:
            plan.add("m.body ILIKE %s", f"%{gram}%")

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

    def _rows(self, plan: Plan, sql: str, params: list, *, many: bool = True,
              force: dict[str, str] | None = None) -> list[tuple]:
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

        The settings go with the statement in one round trip, as three
        statements in one query (Django binds parameters client-side): set
        for the transaction, saving the old values; the statement; the old
        values back. Outside a transaction the three are one transaction of
        their own, so the settings end with it; inside one (a bot, a test)
        they would last to its end, and the third statement puts them back.
        A transaction and two more statements around it cost 0.4 ms more
        (0.19 ms for the query against 0.57).
        `force` names the settings outright (see _newest_ids)."""
        changes = dict(SEARCH_SETTINGS) if many else {}
        if plan.selective_filter and self._combine(plan):
            changes = {**SEARCH_SETTINGS, "enable_indexscan": "off"}
        if force is not None:
            changes = force
        if not changes:
            return run(sql, params)
        names = list(changes)
        save = ", ".join(f"set_config('chat.saved_{n}', current_setting('{n}'), true), "
                         f"set_config('{n}', %s, true)" for n in names)
        restore = ", ".join(f"set_config('{n}', current_setting('chat.saved_{n}'), true)"
                            for n in names)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {save}; {sql}; SELECT {restore}",
                           [*(changes[n] for n in names), *params])
            cursor.nextset()
            return cursor.fetchall()

    def _newest_page(self, plan: Plan, where: list[str], params: list, limit: int, *,
                     force: dict[str, str] | None = None) -> list[int]:
        sql = (f"SELECT m.id FROM chat_message m WHERE {' AND '.join(where)} "
               f"ORDER BY {self._newest_first(plan)} LIMIT %s")
        return [r[0] for r in self._rows(plan, sql, [*params, limit], many=False, force=force)]

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

    @staticmethod
    def _range_sql(plan: Plan, order: str, columns: str = "m.id") -> str:
        """The newest matches in an id range: parameters are the plan's, then
        upper, lower (lower < id <= upper) and the limit."""
        return (f"SELECT {columns} FROM chat_message m "
                f"WHERE {' AND '.join([*plan.where, 'm.id <= %s', 'm.id > %s'])} "
                f"ORDER BY {order} LIMIT %s")

    def _between(self, plan: Plan, upper: int, lower: int, limit: int, *,
                 many: bool = True, force: dict[str, str] | None = None) -> list[int]:
        """The newest `limit` matches with lower < id <= upper, in one statement
        read in id order (a walk, when the plan allows one)."""
        sql = self._range_sql(plan, "m.id DESC")
        return [r[0] for r in self._rows(plan, sql, [*plan.params, upper, lower, limit],
                                         many=many, force=force)]

    def _windowed(self, plan: Plan, upper: int, need: int, size: int, *,
                  rank: bool = False, many: bool = True,
                  force: dict[str, str] | None = None) -> list[tuple]:
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
            sql = self._range_sql(plan, self._newest_first(plan),
                                  "m.id, m.search_tsv" if rank else "m.id")
            params = [*plan.params, upper, lower, need - len(rows)]
            if rank:  # ranks for the rows found only, not for every row the scan read
                sql = f"SELECT c.id, ts_rank(c.search_tsv, %s::tsquery) FROM ({sql}) c"
                params = [self.tsquery, *params]
            rows += self._rows(plan, sql, params, many=many, force=force)
            upper = lower
            if rank and len(rows) >= DENSITY_FROM:
                size = int((need - len(rows)) * (top - upper) / len(rows) * WINDOW_MARGIN) + 1
            else:
                size *= 8 if rank else 4
        return rows

    def _newest_ids(self, plan: Plan, upper: int, need: int) -> list[int]:
        """A page of the newest matches of a phrase or substring.

        Most such pages lie in the newest few thousand ids (`ERR_CONN_RESET`,
        1.3% of messages, fills a page of 20 in 1,600), so the newest ids are
        read first, in order, stopping at the page: a walk over at most
        RECENT_WALK_PER_ROW of the searched rooms' messages per row (through
        the room index when the rooms are few). Left to itself the planner,
        which expects few matches, reads every match in a window of 42,000
        ids and sorts them (15 ms for `ERR_CONN_RESET`; the guest's
        `"connection refused"`: 50,000 index entries, 17 ms; the walk: 3 ms).

        When the walk falls short the term is rare, and the rest is read
        through its index: all of it when the walk found almost nothing (a
        rare term has few matches left), else a window sized from the density
        the walk saw. Each such statement reads the term's whole posting
        lists, so one statement instead of windows growing 4x
        (`edge-02b2.prod.internal`, 35 matches in 1M: 3 statements of 19 ms)."""
        walk = int(RECENT_WALK_PER_ROW * need / max(room_share(plan), 1e-6))
        lower = max(0, upper - walk)
        ids = self._between(plan, upper, lower, need, force={"enable_bitmapscan": "off"})
        if len(ids) >= need or lower == 0:
            return ids
        rest = need - len(ids)
        size = int(rest * walk / len(ids) * WALK_MARGIN) + 1 if len(ids) >= WALK_TRUST else lower
        if size * 2 > lower:
            size = lower
        return ids + [r[0] for r in self._windowed(
            plan, lower, rest, size, force={**SEARCH_SETTINGS, "enable_indexscan": "off"})]

    @staticmethod
    def _scoped_window(plan: Plan, size: int) -> int:
        """A first window for ranking a phrase or substring, made as much larger
        as the searcher's rooms (at most RANK_SCOPED_ROOMS of them) hold less
        of the messages: in one room of 200 the window of all ids is a bitmap
        AND with the room's own index, where windows sized for all rooms held
        a dozen matches each and each one read the whole posting lists again
        (`"connection refused" in:#room-004`: 47 -> 20 ms; the guest's 20
        rooms: 71 -> 28 ms)."""
        if len(plan.room_ids) > RANK_SCOPED_ROOMS:
            return size
        return int(size / max(room_share(plan), 1e-6))

    def recent_ids(self, plan: Plan, *, before_id: int | None, limit: int) -> list[int]:
        """A page of the newest matches with id < before_id. Words the planner
        expects in a fair share of the ids but under PAGE_WALK_DENSITY are
        first looked for in a window of the newest ids sized from its
        estimate (see _page_window): left to itself the planner
        walks the id index back until the page is full (6,700 rows for
        `bridorzan`, 0.3% of messages: 3-5 ms), where the window's bitmap
        reads 30. A window that falls short is followed by a window sized from
        the density it saw (`brilopeltu`: 9 of 21 in 18,700 ids, then the
        planner's walk read 17,000 rows, 10 ms), or, when it saw too few to
        tell, by one statement for the rest, planned as the planner sees fit
        (its estimates for words are close), not by windows growing 4x (three
        statements for a word rarer than its estimate)."""
        upper = before_id - 1 if before_id is not None else None
        if plan.id_ceiling is not None:  # before:/on: (see plan.id_ceiling)
            upper = plan.id_ceiling if upper is None else min(upper, plan.id_ceiling)
        if upper is not None and upper <= 0:
            return []
        if self._misestimated(plan):
            return self._newest_ids(plan, self.newest_id() if upper is None else upper, limit)
        ids: list[int] = []
        force: dict[str, str] | None = None
        if self.tsquery is not None and not self._combine(plan):
            top = self.newest_id() if upper is None else upper
            size = self._page_window(plan, top, limit)
            if self._common_word(top) and not plan.all_rooms:
                # A common word in some rooms: walk their newest messages (the room
                # index, when few), not AND its long posting list with the rooms'
                # (`deploy in:#room-020`: 29,000 entries read, 7.6 ms).
                force = {"enable_bitmapscan": "off"}
            if size < top:
                ids = self._between(plan, top, top - size, limit, many=False)
                if len(ids) >= limit or top <= size:
                    return ids
                upper = top - size
                # Rarer than the planner thinks, which is why the window fell
                # short: left to itself it walks the id index back for the rest
                # of the page, through every older id when the rest has fewer
                # (`senzantor`: 31 matches, 401 expected; 520,000 rows, 58 ms).
                # Its posting list is short: read it (0.25 ms).
                force = {**SEARCH_SETTINGS, "enable_indexscan": "off"}
                if len(ids) >= WALK_TRUST:  # the density seen sizes the next window
                    more = int((limit - len(ids)) * size / len(ids) * WALK_MARGIN) + 1
                    return ids + [r[0] for r in self._windowed(
                        plan, upper, limit - len(ids), more, many=False, force=force)]
        where, params = list(plan.where), list(plan.params)
        if upper is not None:
            where.append("m.id <= %s")
            params.append(upper)
        return ids + self._newest_page(plan, where, params, limit - len(ids), force=force)

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
                return self._newest_ids(plan, max_id, offset + limit)[offset:]
            where, params = [*plan.where, "m.id <= %s"], [*plan.params, max_id]
            return self._newest_page(plan, where, params, offset + limit)[offset:]
        many = True
        if self._misestimated(plan):
            size = self._scoped_window(plan, RANK_WINDOW_PER_CANDIDATE * candidates)
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

    def _page_window(self, plan: Plan, top: int, need: int) -> int:
        """Ids to look through for a page of words (as _window_for), or `top` for
        the planner's own plan: for a word in PAGE_WALK_DENSITY of the messages
        or more, whose newest matches are close together (the walk reads 2,100
        rows for a 1% word) and whose posting list is long (the window's bitmap
        reads all of it: 50,000 entries of `api`, 10 ms; in one room of 200,
        `connection`: 34 ms), or for a word too rare to fill a page from a
        part of the table, or a prefix (see _window_for)."""
        if any(t.kind is TermKind.PREFIX and not t.negated for t in plan.terms):
            return top
        scoped = self._text_rows() * room_share(plan)
        if self._common_word(top) or scoped < need * WINDOW_MARGIN / WINDOW_AT_MOST:
            return top
        return int(need * top / scoped * WINDOW_MARGIN) + 1

    def _common_word(self, top: int) -> bool:
        """The text is in PAGE_WALK_DENSITY of the `top` ids or more."""
        return self._text_rows() >= top * PAGE_WALK_DENSITY

    def _text_rows(self) -> float:
        """The planner's estimate of the messages the text matches (read once)."""
        if self._text_estimate is None:
            (doc,), = run("EXPLAIN (FORMAT JSON) SELECT 1 FROM chat_message m "
                          "WHERE m.search_tsv @@ %s::tsquery", [self.tsquery])
            tree = json.loads(doc) if isinstance(doc, str) else doc
            self._text_estimate = float(tree[0]["Plan"]["Plan Rows"])
        return self._text_estimate

    def _estimate(self, plan: Plan, enough: float) -> float:
        """The matches in the searcher's rooms: the planner's estimate for the text
        alone (close for words: 22,600 real, 23,200 estimated for `staging`),
        times the rooms' share of the messages when the text alone is more than
        `enough`. The planner's own guess for the room list comes from a sample
        and may be far off (all 200 rooms of the benchmark: 62% of the rows)."""
        estimate = self._text_rows()
        return estimate * room_share(plan) if estimate > enough else estimate

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

    def snippet_sql(self, plan: Plan) -> tuple[str, list] | None:
        if self.tsquery is None:
            return None
        # ts_headline's parser drops what looks like HTML tags: "<" and "&" are
        # hidden from it (and any marker characters the body holds dropped),
        # and put back in its output.
        text = ('replace(replace(replace(replace("chat_message"."body", %s, \'\'), %s, \'\'), '
                "'<', %s), '&', %s)")
        headline = f"ts_headline(%s::regconfig, {text}, %s::tsquery, %s)"
        return (f"replace(replace({headline}, %s, '<'), %s, '&')",
                [self.config, MARK_START, MARK_END, _LT, _AMP, self.tsquery, HEADLINE_OPTIONS,
                 _LT, _AMP])
