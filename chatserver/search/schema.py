"""The search index structures, per database vendor, kept in step by triggers.

Triggers (not code in chat/actions.py) keep the index in step, so every write
path (post, edit, delete, bulk loads, a future raw-SQL insert) is covered.
Deleted messages leave the index: their body is emptied, and the SQLite
triggers index only rows with deleted = 0.

PostgreSQL: a `search_tsv` tsvector column on chat_message set by a BEFORE
trigger, a GIN index on it, and a pg_trgm GIN index on the body for ops tokens.
Both GIN indexes keep fastupdate with a small pending list, so the list is
merged often in small steps instead of stalling one unlucky insert for long.

SQLite: two external-content FTS5 tables over chat_message (no copy of the
text): `search_fts` (porter stemming, or none) and `search_trgm` (trigram
tokenizer: case-insensitive substrings of three characters or more).
`search_fts` also indexes each message's room as one token (`r<room id>`, in
a `room` column read through the view `search_fts_content`), so a search in a
few rooms is an FTS5 intersection of the words with the rooms' tokens.

Both: `search_out_of_time` lists the messages whose created_at is more than an
hour from when they were written (imports, backfills), by trigger, so that a
before:/on: search can start under an id ceiling (plan.id_ceiling).

The text search configuration comes from settings.CHAT["SEARCH_CONFIG"] when
the index is built; after changing it run `manage.py search_reindex`.
"""

from __future__ import annotations

import re

from django.conf import settings

PENDING_LIST_KB = 256  # gin_pending_list_limit for both GIN indexes

# has:/is: filters as SQL over chat_message, each with a partial index on (id)
# holding exactly the rows it accepts. Without them a filter that rejects most
# of a common word's matches is checked row by row after walking every match
# (669 ms for `connection has:link` at 1M messages). plan.py writes the same
# predicates into the query so both planners can prove the index applies
# (the text must match the index's WHERE clause, so it is spelled out here once).
FILTER_PREDICATES = {
    "link": "html LIKE '%<a href=%'",
    "code": "html LIKE '%<code%'",
    "thread": "(thread_root_id IS NOT NULL OR reply_count > 0)",
    "room_mention": "mentions_room",
}


def filter_index_name(key: str) -> str:
    return f"search_message_flag_{key}"


def install_filter_indexes(cursor) -> None:
    for key, predicate in FILTER_PREDICATES.items():
        cursor.execute(f"CREATE INDEX IF NOT EXISTS {filter_index_name(key)} "
                       f"ON chat_message (id) WHERE {predicate}")


# PostgreSQL: the text index again for the messages with a link or code, so that
# `connection has:link` is one short posting list, not a bitmap AND of two long
# ones (63,500 and 51,400 entries at 1M messages, none in common: 21 ms -> 0.03
# ms). 9 MB and 6 MB at 1M; built in 1.8 s and 0.8 s.
TEXT_FILTERS = ("link", "code")


def text_filter_index_name(key: str) -> str:
    return f"search_message_tsv_{key}"


def pg_install_text_filters(cursor) -> None:
    opts = f"fastupdate = on, gin_pending_list_limit = {PENDING_LIST_KB}"
    for key in TEXT_FILTERS:
        cursor.execute(f"CREATE INDEX IF NOT EXISTS {text_filter_index_name(key)} "
                       f"ON chat_message USING gin (search_tsv) WITH ({opts}) "
                       f"WHERE {FILTER_PREDICATES[key]}")


def pg_uninstall_text_filters(cursor) -> None:
    for key in TEXT_FILTERS:
        cursor.execute(f"DROP INDEX IF EXISTS {text_filter_index_name(key)}")


def uninstall_filter_indexes(cursor) -> None:
    for key in FILTER_PREDICATES:
        cursor.execute(f"DROP INDEX IF EXISTS {filter_index_name(key)}")


# --- Out-of-time messages (both engines) -------------------------------------------
#
# A before:/on: search wants the newest matches written before a date. Ids follow
# the time messages were written, so "written before X" is nearly "id below some
# ceiling", which lets the search start just under it instead of combining the
# text index with every created_at before X (`staging before:`: 178,000 index
# entries). Imports, backfills and wrong clocks break that link, so every
# message whose created_at is more than OUT_OF_TIME_SLACK away from the time it
# was written (at insert or when created_at changes) is listed in
# search_out_of_time; plan.id_ceiling reads the ceiling from the rest and adds
# the listed ones. The listing is by trigger, so every write path is covered.

OUT_OF_TIME = "search_out_of_time"
OUT_OF_TIME_SLACK_HOURS = 1


def _out_of_time_pg(cursor) -> None:
    cursor.execute(f"CREATE TABLE IF NOT EXISTS {OUT_OF_TIME} (message_id bigint PRIMARY KEY, "
                   "created_at timestamptz NOT NULL)")
    cursor.execute(f"CREATE INDEX IF NOT EXISTS {OUT_OF_TIME}_created_at "
                   f"ON {OUT_OF_TIME} (created_at)")
    cursor.execute(
        f"CREATE OR REPLACE FUNCTION {OUT_OF_TIME}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN INSERT INTO {OUT_OF_TIME} VALUES (NEW.id, NEW.created_at) "
        "ON CONFLICT (message_id) DO UPDATE SET created_at = EXCLUDED.created_at; "
        "RETURN NULL; END $$"
    )
    slack = f"interval '{OUT_OF_TIME_SLACK_HOURS} hour'"
    cursor.execute(f"DROP TRIGGER IF EXISTS {OUT_OF_TIME} ON chat_message")
    cursor.execute(
        f"CREATE TRIGGER {OUT_OF_TIME} AFTER INSERT OR UPDATE OF created_at ON chat_message "
        f"FOR EACH ROW WHEN (NEW.created_at < now() - {slack} OR NEW.created_at > now() + {slack}) "
        f"EXECUTE FUNCTION {OUT_OF_TIME}()"
    )
    _list_out_of_time(cursor, f"now() + {slack}", f"max_before - {slack}")


def _out_of_time_sqlite(cursor) -> None:
    cursor.execute(f"CREATE TABLE IF NOT EXISTS {OUT_OF_TIME} (message_id integer PRIMARY KEY, "
                   "created_at datetime NOT NULL)")
    cursor.execute(f"CREATE INDEX IF NOT EXISTS {OUT_OF_TIME}_created_at "
                   f"ON {OUT_OF_TIME} (created_at)")
    # Django keeps datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC) text here.
    hours = OUT_OF_TIME_SLACK_HOURS

    def at(base: str, sign: str) -> str:
        return f"strftime('%Y-%m-%d %H:%M:%f', {base}, '{sign}{hours} hour')"

    when = f"new.created_at < {at(repr('now'), '-')} OR new.created_at > {at(repr('now'), '+')}"
    for suffix, event in (("ai", "INSERT"), ("au", "UPDATE OF created_at")):
        cursor.execute(
            f"CREATE TRIGGER IF NOT EXISTS {OUT_OF_TIME}_{suffix} AFTER {event} ON chat_message "
            f"WHEN {when} BEGIN INSERT OR REPLACE INTO {OUT_OF_TIME} "
            "VALUES (new.id, new.created_at); END"
        )
    # before:/on: find the ceiling through created_at (PostgreSQL: pg_install).
    cursor.execute(
        "CREATE INDEX IF NOT EXISTS search_message_created_at ON chat_message (created_at)"
    )
    _list_out_of_time(cursor, at("'now'", "+"), at("max_before", "-"))


def _list_out_of_time(cursor, future: str, late: str) -> None:
    """List the messages already out of time: written after a message of a later
    created_at by more than the slack (or dated in the future). A message
    written on time is never more than the slack older than one written
    before it, so these are exactly the ones that break the id order."""
    cursor.execute(
        f"INSERT INTO {OUT_OF_TIME} (message_id, created_at) "
        "SELECT id, created_at FROM (SELECT id, created_at, max(created_at) OVER "
        "(ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS max_before "
        f"FROM chat_message WHERE created_at <= {future}) m "
        f"WHERE created_at < {late} "
        f"UNION ALL SELECT id, created_at FROM chat_message WHERE created_at > {future} "
        "ON CONFLICT (message_id) DO NOTHING"
    )


def install_out_of_time(cursor, vendor: str) -> None:
    (_out_of_time_pg if vendor == "postgresql" else _out_of_time_sqlite)(cursor)


def uninstall_out_of_time(cursor, vendor: str) -> None:
    if vendor == "postgresql":
        cursor.execute(f"DROP TRIGGER IF EXISTS {OUT_OF_TIME} ON chat_message")
        cursor.execute(f"DROP FUNCTION IF EXISTS {OUT_OF_TIME}()")
    else:
        for suffix in ("ai", "au"):
            cursor.execute(f"DROP TRIGGER IF EXISTS {OUT_OF_TIME}_{suffix}")
        cursor.execute("DROP INDEX IF EXISTS search_message_created_at")
    cursor.execute(f"DROP TABLE IF EXISTS {OUT_OF_TIME}")


def config_name() -> str:
    name = settings.CHAT["SEARCH_CONFIG"]
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise ValueError(f"CHAT_SEARCH_CONFIG must be a text search configuration name: {name!r}")
    return name


def sqlite_tokenizer(config: str) -> str:
    """FTS5 has one stemmer (Porter, English); any other configuration gets none."""
    base = "unicode61 remove_diacritics 2"
    return f"porter {base}" if config == "english" else base


# --- PostgreSQL -----------------------------------------------------------------


def pg_install(cursor, config: str) -> None:
    cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    cursor.execute("ALTER TABLE chat_message ADD COLUMN IF NOT EXISTS search_tsv tsvector")
    pg_set_config(cursor, config)
    cursor.execute("DROP TRIGGER IF EXISTS search_message_tsv ON chat_message")
    cursor.execute(
        "CREATE TRIGGER search_message_tsv BEFORE INSERT OR UPDATE OF body, deleted "
        "ON chat_message FOR EACH ROW EXECUTE FUNCTION search_message_tsv()"
    )
    cursor.execute(
        "UPDATE chat_message SET search_tsv = CASE WHEN deleted THEN NULL "
        f"ELSE to_tsvector('{config}'::regconfig, body) END"
    )
    opts = f"fastupdate = on, gin_pending_list_limit = {PENDING_LIST_KB}"
    cursor.execute(
        "CREATE INDEX IF NOT EXISTS search_message_tsv_gin ON chat_message "
        f"USING gin (search_tsv) WITH ({opts})"
    )
    cursor.execute(
        "CREATE INDEX IF NOT EXISTS search_message_body_trgm ON chat_message "
        f"USING gin (body gin_trgm_ops) WITH ({opts})"
    )
    # Room-scoped, newest-first searches walk this instead of the whole table.
    cursor.execute(
        "CREATE INDEX IF NOT EXISTS search_message_room_id ON chat_message (room_id, id)"
    )
    # before:/on: searches combine this with the text index (see backends/postgres.py).
    cursor.execute(
        "CREATE INDEX IF NOT EXISTS search_message_created_at ON chat_message (created_at)"
    )
    install_filter_indexes(cursor)
    pg_install_text_filters(cursor)
    install_out_of_time(cursor, "postgresql")


def pg_set_config(cursor, config: str) -> None:
    """(Re)define the trigger function for a text search configuration."""
    cursor.execute(
        "CREATE OR REPLACE FUNCTION search_message_tsv() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "NEW.search_tsv := CASE WHEN NEW.deleted THEN NULL "
        f"ELSE to_tsvector('{config}'::regconfig, NEW.body) END; "
        "RETURN NEW; END $$"
    )


def pg_reindex(cursor, config: str) -> None:
    pg_set_config(cursor, config)
    cursor.execute(
        "UPDATE chat_message SET search_tsv = CASE WHEN deleted THEN NULL "
        f"ELSE to_tsvector('{config}'::regconfig, body) END"
    )


def pg_uninstall(cursor) -> None:
    cursor.execute("DROP TRIGGER IF EXISTS search_message_tsv ON chat_message")
    cursor.execute("DROP FUNCTION IF EXISTS search_message_tsv()")
    cursor.execute("DROP INDEX IF EXISTS search_message_tsv_gin")
    pg_uninstall_text_filters(cursor)
    cursor.execute("DROP INDEX IF EXISTS search_message_body_trgm")
    cursor.execute("DROP INDEX IF EXISTS search_message_room_id")
    cursor.execute("DROP INDEX IF EXISTS search_message_created_at")
    uninstall_filter_indexes(cursor)
    uninstall_out_of_time(cursor, "postgresql")
    cursor.execute("ALTER TABLE chat_message DROP COLUMN IF EXISTS search_tsv")


# --- SQLite -----------------------------------------------------------------------

SQLITE_TABLES = ("search_fts", "search_trgm")


# Only messages with a character other than an ASCII letter, digit or space go
# into the trigram table. A substring term always holds such a character (query.py
# sends only terms with punctuation, `_` included, to it), so a message without
# one can never match it; on the 1M benchmark corpus that leaves 62% of messages
# out of the costliest index. The 'delete' commands use the same test, so only
# rows that were indexed are removed.
TRIGRAM_ROWS = "{row}.body GLOB '*[^a-zA-Z0-9 ]*'"

# The word table's second column: the message's room as one token. Without it a
# search in one room of many walks the word's matches newest first, looking up
# each one's room (`connection in:#room-004`: 50,000 matches for 250 in the
# room, 45 ms at 1M messages). FTS5 reads external content by column name, so
# the column comes from a view over chat_message.
ROOM_COLUMN = "room"
ROOM_VALUE = "'r' || {row}.room_id"
WORDS_CONTENT = "search_fts_content"


def room_token(room_id: int) -> str:
    return f"r{int(room_id)}"


def _sqlite_table(cursor, table: str, tokenizer: str, options: str, only: str, *,
                  room: bool = False) -> None:
    """One external-content FTS5 table over chat_message and its triggers: the body,
    and with `room` the room token too. `only` is an extra condition on {row}
    (new/old/chat_message) or ''."""

    def cond(row: str) -> str:
        return f" AND {only.format(row=row)}" if only else ""

    def values(row: str) -> str:
        token = f", {ROOM_VALUE.format(row=row)}" if room else ""
        return f"{row}.id, {row}.body{token}"

    columns = f"body, {ROOM_COLUMN}" if room else "body"
    content = WORDS_CONTENT if room else "chat_message"
    if room:
        cursor.execute(
            f"CREATE VIEW IF NOT EXISTS {WORDS_CONTENT} AS SELECT id, body, "
            f"{ROOM_VALUE.format(row='chat_message')} AS {ROOM_COLUMN} FROM chat_message"
        )
    cursor.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {table} USING fts5({columns}, "
        f"content='{content}', content_rowid='id',{options} tokenize='{tokenizer}')"
    )
    cursor.execute(
        f"CREATE TRIGGER IF NOT EXISTS {table}_ai AFTER INSERT ON chat_message "
        f"WHEN NOT new.deleted{cond('new')} BEGIN "
        f"INSERT INTO {table}(rowid, {columns}) VALUES ({values('new')}); END"
    )
    cursor.execute(
        f"CREATE TRIGGER IF NOT EXISTS {table}_ad AFTER DELETE ON chat_message "
        f"WHEN NOT old.deleted{cond('old')} BEGIN "
        f"INSERT INTO {table}({table}, rowid, {columns}) VALUES ('delete', {values('old')}); END"
    )
    # One trigger, two guarded statements in order: the external-content
    # 'delete' needs the exact old values, and only rows that were indexed.
    watched = "body, deleted, room_id" if room else "body, deleted"
    cursor.execute(
        f"CREATE TRIGGER IF NOT EXISTS {table}_au AFTER UPDATE OF {watched} "
        f"ON chat_message BEGIN "
        f"INSERT INTO {table}({table}, rowid, {columns}) "
        f"SELECT 'delete', {values('old')} WHERE NOT old.deleted{cond('old')}; "
        f"INSERT INTO {table}(rowid, {columns}) SELECT {values('new')} "
        f"WHERE NOT new.deleted{cond('new')}; "
        f"END"
    )
    cursor.execute(
        f"INSERT INTO {table}(rowid, {columns}) SELECT {values('chat_message')} "
        f"FROM chat_message WHERE NOT deleted{cond('chat_message')}"
    )


def _sqlite_words_table(cursor, config: str, *, room: bool = True) -> None:
    _sqlite_table(cursor, "search_fts", sqlite_tokenizer(config), " prefix='2 3 4',", "",
                  room=room)


def sqlite_install(cursor, config: str) -> None:
    _sqlite_words_table(cursor, config)
    _sqlite_table(cursor, "search_trgm", "trigram", "", TRIGRAM_ROWS)
    cursor.execute(
        "CREATE INDEX IF NOT EXISTS search_message_room_id ON chat_message (room_id, id)"
    )
    install_filter_indexes(cursor)
    install_out_of_time(cursor, "sqlite")


def _sqlite_drop_table(cursor, table: str) -> None:
    for suffix in ("ai", "ad", "au"):
        cursor.execute(f"DROP TRIGGER IF EXISTS {table}_{suffix}")
    cursor.execute(f"DROP TABLE IF EXISTS {table}")
    if table == "search_fts":
        cursor.execute(f"DROP VIEW IF EXISTS {WORDS_CONTENT}")


def sqlite_rebuild_trigram(cursor, *, only: str) -> None:
    """Migration search 0003 (and back): the trigram table with another row test."""
    _sqlite_drop_table(cursor, "search_trgm")
    _sqlite_table(cursor, "search_trgm", "trigram", "", only)


def sqlite_rebuild_words(cursor, config: str, *, room: bool) -> None:
    """Migration search 0004 (and back): the word table with or without room tokens."""
    _sqlite_drop_table(cursor, "search_fts")
    _sqlite_words_table(cursor, config, room=room)


def sqlite_uninstall(cursor) -> None:
    for table in SQLITE_TABLES:
        _sqlite_drop_table(cursor, table)
    cursor.execute("DROP INDEX IF EXISTS search_message_room_id")
    uninstall_filter_indexes(cursor)
    uninstall_out_of_time(cursor, "sqlite")


def install(connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            pg_install(cursor, config_name())
        elif connection.vendor == "sqlite":
            sqlite_install(cursor, config_name())


def uninstall(connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            pg_uninstall(cursor)
        elif connection.vendor == "sqlite":
            sqlite_uninstall(cursor)


def reindex(connection) -> None:
    """Rebuild the index with the configured text search configuration."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            pg_reindex(cursor, config_name())
    elif connection.vendor == "sqlite":
        uninstall(connection)
        install(connection)
