"""Search benchmark: load a synthetic chat corpus, then time 50 fixed queries
while 50 messages/s are being written.

    python -m bench search --engine postgres|sqlite [--messages 1000000]

Steps, each timed and written to bench/results/<date>-search-<engine>-<n>.json:
1. A fresh database (PostgreSQL: --pg-db, dropped and created; SQLite: a file
   under data/bench/), migrated, with the search structures dropped again.
2. 500 users, 200 rooms (half public, half private), N messages over a year:
   short lines from a Zipf vocabulary, code, hostnames, IPs, error codes,
   paths, links. PostgreSQL loads with COPY, SQLite with executemany in one
   transaction.
3. Insert cost: single-connection inserts/s (one transaction each) without
   search indexing, then again after the index is built (its build time and
   size are recorded).
4. 50 queries (rare/medium/common words chosen by document frequency,
   phrases, operators, prefixes, ops tokens, a guest who can read 10% of the
   rooms), each sorted by relevance and by date, through search_messages(),
   while a writer process inserts 50 messages/s; the writer's insert latency
   shows whether indexing ever stalls a send.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import statistics
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .util import (
    RESULTS_DIR,
    ROOT,
    WORK_DIR,
    log,
    percentiles,
    steal_jiffies,
    steal_share,
    wait_quiet,
)

USERS, ROOMS = 500, 200
SEED = 5
# Stop words: in the text, never picked as query words (PostgreSQL drops them).
_STOP = ("the to and a is it i you that of in for on this we be have with not are can do "
         "just but so if what at no was by from")
STOP_WORDS = _STOP.split()
_COMMON = (
    "deploy build test fix error server api prod staging "
    "check restart log logs alert issue looks now up down up think need will get go "
    "working broken pr merge review release db query cache timeout latency cpu memory "
    "disk node pod cluster service team meeting today tomorrow thanks ok yes lgtm"
)
COMMON_WORDS = STOP_WORDS + _COMMON.split()
HOST_WORDS = ("api", "web", "db", "cache", "worker", "queue", "auth", "search", "edge")
ERRORS = ("ERR_CONN_RESET", "ECONNREFUSED", "ETIMEDOUT", "OOMKilled", "HTTP_502",
          "ERR_TLS_CERT_ALTNAME_INVALID", "SIGSEGV", "E_TOO_MANY_CONNECTIONS")
PATHS = ("/var/log/nginx/error.log", "/etc/nginx/nginx.conf", "/var/lib/postgresql/data",
         "/srv/app/releases", "/tmp/build-cache", "/var/log/syslog")


def pseudo_vocab(rng: random.Random, n: int) -> list[str]:
    syll = ["ka", "lo", "mi", "re", "tu", "zan", "pel", "dor", "vi", "sen", "qua", "bri",
            "nox", "fel", "gar", "hum", "jin", "tor", "wex", "yal"]
    out: set[str] = set()
    while len(out) < n:
        out.add("".join(rng.choice(syll) for _ in range(rng.randint(2, 4))))
    return sorted(out)


class Corpus:
    """Deterministic message generator; counts document frequency of plain words."""

    def __init__(self, n: int) -> None:
        self.rng = random.Random(SEED)
        self.vocab = COMMON_WORDS + pseudo_vocab(self.rng, 30_000)
        weights = [1 / (i + 1) ** 1.05 for i in range(len(self.vocab))]
        acc, self.cum = 0.0, []
        for w in weights:
            acc += w
            self.cum.append(acc)
        self.hosts = [f"{self.rng.choice(HOST_WORDS)}-{self.rng.getrandbits(16):04x}"
                      for _ in range(3000)]
        self.ips = [f"10.{self.rng.randint(0, 9)}.{self.rng.randint(0, 255)}."
                    f"{self.rng.randint(1, 254)}" for _ in range(3000)]
        self.n = n
        self.df: Counter[str] = Counter()
        self.samples: list[str] = []  # plain lines, for phrases that occur

    def words(self, k: int) -> list[str]:
        return self.rng.choices(self.vocab, cum_weights=self.cum, k=k)

    def message(self) -> tuple[str, str]:
        """Return (body, html)."""
        r = self.rng.random()
        words = self.words(self.rng.randint(3, 12))
        text = " ".join(words)
        html = None
        if r < 0.55:
            body = text
            if len(self.samples) < 200:
                self.samples.append(text)
        elif r < 0.62:
            body = " ".join(self.words(self.rng.randint(20, 60)))
        elif r < 0.70:
            cmd = f"kubectl logs {self.rng.choice(self.hosts)} -n {self.rng.choice(words)}"
            body = f"{text} `{cmd}`"
            html = f"<p>{text} <code>{cmd}</code></p>"
        elif r < 0.80:
            host = self.rng.choice(self.hosts)
            body = f"{host}.prod.internal at {self.rng.choice(self.ips)} {text}"
        elif r < 0.90:
            err = self.rng.choice(ERRORS)
            body = f"{err} from {self.rng.choice(self.hosts)} see {self.rng.choice(PATHS)} {text}"
        elif r < 0.95:
            url = f"https://{self.rng.choice(self.hosts)}.example.com/{self.rng.choice(words)}"
            body = f"{text} {url}"
            html = f'<p>{text} <a href="{url}">{url}</a></p>'
        else:
            body = f"connection refused by {self.rng.choice(self.hosts)} {text}"
        self.df.update(set(body.split()))
        return body, html or f"<p>{body}</p>"


# --- database setup ----------------------------------------------------------------


def prepare_env(args) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "chatserver.settings"
    os.environ.pop("REDIS_URL", None)
    if args.engine == "postgres":
        import psycopg

        base = args.pg_url.rsplit("/", 1)[0]
        if not args.reuse:
            with psycopg.connect(f"{base}/postgres", autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{args.pg_db}"')
                c.execute(f'CREATE DATABASE "{args.pg_db}"')
        os.environ["DATABASE_URL"] = f"{base}/{args.pg_db}"
        os.environ["DB_POOL_MAX"] = "4"
    else:
        data = WORK_DIR / f"search-sqlite-{args.messages}"
        data.mkdir(parents=True, exist_ok=True)
        for f in data.glob("chat.sqlite3*"):
            if not args.reuse:
                f.unlink()
        os.environ["CHAT_DATA_DIR"] = str(data)
        os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()


def seed_people():
    from chatserver.accounts.models import Role, User
    from chatserver.chat.models import Membership, Room

    users = User.objects.bulk_create([User(username=f"u{i:03d}", display_name=f"U {i}",
                                           password="!") for i in range(USERS)])
    everyone = User.objects.create(username="searcher", password="!", role=Role.ADMIN)
    guest = User.objects.create(username="guest", password="!", role=Role.GUEST)
    rooms = Room.objects.bulk_create([
        Room(name=f"room-{j:03d}", visibility="public" if j % 2 == 0 else "private")
        for j in range(ROOMS)])
    members = [Membership(room=r, user=everyone) for r in rooms]
    members += [Membership(room=r, user=guest) for r in rooms[: ROOMS // 10]]
    rng = random.Random(SEED)
    for r in rooms:
        members += [Membership(room=r, user=u) for u in rng.sample(users, 25)]
    Membership.objects.bulk_create(members)
    return users, rooms, everyone, guest


def load_messages(corpus: Corpus, users, rooms) -> float:
    from django.db import connection, transaction

    rng = random.Random(SEED + 1)
    start = datetime.now(UTC) - timedelta(days=365)
    step = timedelta(days=365) / corpus.n
    seqs = dict.fromkeys((r.id for r in rooms), 0)
    room_ids = [r.id for r in rooms]
    user_ids = [u.id for u in users]
    cols = ("room_id, seq, author_id, body, html, reply_count, mentions_room, created_at, "
            "deleted")
    insert = ("INSERT INTO chat_message (room_id, seq, author_id, body, html, reply_count, "
              "mentions_room, created_at, deleted) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)")

    def rows():
        for i in range(corpus.n):
            room = rng.choice(room_ids)
            seqs[room] += 1
            body, html = corpus.message()
            yield (room, seqs[room], rng.choice(user_ids), body, html, 0, False,
                   start + step * i, False)

    t0 = time.monotonic()
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        with connection.connection.cursor() as cur, \
                cur.copy(f"COPY chat_message ({cols}) FROM STDIN") as copy:
            for row in rows():
                copy.write_row(row)
        connection.connection.commit()
    else:
        with transaction.atomic(), connection.cursor() as cur:
            batch = []
            for row in rows():
                batch.append(row[:7] + (row[7].strftime("%Y-%m-%d %H:%M:%S.%f"), row[8]))
                if len(batch) == 10_000:
                    cur.executemany(insert, batch)
                    batch = []
            if batch:
                cur.executemany(insert, batch)
    from chatserver.chat.models import Room

    for rid, seq in seqs.items():
        Room.objects.filter(id=rid).update(last_seq=seq)
    return time.monotonic() - t0


def reuse_database(args, corpus: Corpus):
    """--reuse: keep the corpus a previous run loaded (same --messages), apply any
    new migrations, and regenerate the corpus in memory for the query words."""
    from django.core.management import call_command

    from chatserver.accounts.models import User
    from chatserver.chat.models import Room

    log(f"reusing the {args.engine} database; applying migrations")
    t0 = time.monotonic()
    call_command("migrate", verbosity=0)
    log(f"  migrated in {time.monotonic() - t0:.1f} s; regenerating the corpus")
    # The messages the first run loaded, and those it inserted before the index
    # was built: the query words are picked from the same counts.
    for _ in range(corpus.n + args.insert_sample):
        corpus.message()
    users = list(User.objects.filter(username__regex=r"^u[0-9]{3}$").order_by("id"))
    rooms = list(Room.objects.filter(name__startswith="room-").order_by("id"))
    if len(users) != USERS or len(rooms) != ROOMS:
        raise SystemExit("--reuse needs a database loaded by this benchmark")
    return (users, rooms, User.objects.get(username="searcher"),
            User.objects.get(username="guest"))


class Writer:
    """Insert messages one transaction each, the way a send does; time each insert."""

    def __init__(self, corpus: Corpus, room_ids: list[int], author_id: int) -> None:
        self.corpus, self.room_ids, self.author_id = corpus, room_ids, author_id
        self.rng = random.Random(SEED + 2)

    def insert_one(self) -> float:
        from django.db import connection, transaction
        from django.utils import timezone

        body, html = self.corpus.message()
        room = self.rng.choice(self.room_ids)
        t0 = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("UPDATE chat_room SET last_seq = last_seq + 1 WHERE id = %s", [room])
            cur.execute("SELECT last_seq FROM chat_room WHERE id = %s", [room])
            (seq,) = cur.fetchone()
            cur.execute(
                "INSERT INTO chat_message (room_id, seq, author_id, body, html, reply_count, "
                "mentions_room, created_at, deleted) VALUES (%s, %s, %s, %s, %s, 0, %s, %s, %s)",
                [room, seq, self.author_id, body, html, False,
                 connection.ops.adapt_datetimefield_value(timezone.now()), False])
        return (time.perf_counter() - t0) * 1000

    def rate(self, n: int) -> dict:
        t0 = time.perf_counter()
        lat = [self.insert_one() for _ in range(n)]
        secs = time.perf_counter() - t0
        return {"inserts": n, "per_second": round(n / secs), **_ms(lat)}


def _write_loop(writer: Writer, rate: float, stop, out) -> None:
    """In the writer process: insert `rate` messages a second until stopped."""
    from django.db import connection

    lat: list[float] = []
    interval = 1 / rate
    nxt = time.monotonic()
    while not stop.is_set():
        lat.append(writer.insert_one())
        nxt += interval
        time.sleep(max(0.0, nxt - time.monotonic()))
    connection.close()
    out.put(lat)


def _ms(values: list[float]) -> dict:
    p = percentiles(values, ps=(50, 95, 99))
    return {k: (round(v, 2) if isinstance(v, float) else v) for k, v in p.items()}


def index_size() -> dict:
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT pg_relation_size('search_message_tsv_gin'), "
                        "pg_relation_size('search_message_body_trgm'), "
                        "pg_relation_size('search_message_room_id'), "
                        "pg_relation_size('search_message_created_at'), "
                        "COALESCE(SUM(pg_column_size(search_tsv)), 0) FROM chat_message")
            gin, trgm, room, created, tsv = cur.fetchone()
            cur.execute("SELECT pg_total_relation_size('chat_message')")
            (table,) = cur.fetchone()
            return {"tsvector_gin_mb": _mb(gin), "trigram_gin_mb": _mb(trgm),
                    "room_id_btree_mb": _mb(room), "created_at_btree_mb": _mb(created),
                    "tsvector_column_mb": _mb(tsv),
                    "chat_message_total_mb": _mb(table)}
        cur.execute("SELECT name, SUM(pgsize) FROM dbstat WHERE name LIKE 'search_%' "
                    "GROUP BY name")
        sizes = dict(cur.fetchall())
        fts = sum(v for k, v in sizes.items() if k.startswith("search_fts"))
        trgm = sum(v for k, v in sizes.items() if k.startswith("search_trgm"))
        return {"fts5_mb": _mb(fts), "trigram_fts5_mb": _mb(trgm),
                "room_id_btree_mb": _mb(sizes.get("search_message_room_id", 0))}


def _mb(n: int) -> float:
    return round(n / 2**20, 1)


# --- queries ----------------------------------------------------------------------


def pick(df: Counter, lo: float, hi: float, k: int, n: int) -> list[str]:
    """k plain words whose document frequency is between lo and hi (fractions of n)."""
    words = sorted((w for w, c in df.items()
                    if w.isalpha() and w not in STOP_WORDS and lo * n <= c <= hi * n),
                   key=lambda w: -df[w])
    if len(words) <= k:
        return words
    stride = len(words) / k
    return [words[int(i * stride)] for i in range(k)]


def query_set(corpus: Corpus, n: int) -> list[tuple[str, str, str]]:
    """(category, searcher, q) x 50."""
    df = corpus.df
    rare = pick(df, 3 / n, 30 / n, 8, n)
    medium = pick(df, 0.001, 0.005, 8, n)
    common = pick(df, 0.02, 0.08, 8, n)
    host = corpus.hosts[7]
    early = datetime.now(UTC) - timedelta(days=300)  # the corpus spans the last 365 days
    qs: list[tuple[str, str, str]] = []
    qs += [("rare", "searcher", w) for w in rare]
    qs += [("medium", "searcher", w) for w in medium]
    qs += [("common", "searcher", w) for w in common]
    pairs = [f'"{a} {b}"' for line in corpus.samples
             for a, b in zip(line.split(), line.split()[1:], strict=False)
             if a not in STOP_WORDS and b not in STOP_WORDS]
    qs += [("phrase", "searcher", q) for q in ['"connection refused"', *pairs[:3]]]
    qs += [("operators", "searcher", q) for q in (
        f"{common[0]} in:#room-004", f"{medium[1]} in:#room-010", f"{common[3]} from:@u017",
        f"{common[1]} has:link", f"{common[6]} before:{early:%Y-%m-%d}",
        f"{common[2]} in:#room-020 -has:code", f"in:#room-030 {rare[1]}")]
    qs += [("prefix", "searcher", f"{w[:4]}*") for w in (medium[3], common[4], rare[2])]
    qs += [("ops", "searcher", q) for q in (
        host, f"{host}.prod.internal", corpus.ips[3], "ERR_CONN_RESET",
        "/var/log/nginx", "nginx/error", host.split("-")[1])]
    qs += [("guest_10pct", "guest", q) for q in (
        rare[3], medium[4], common[5], '"connection refused"', corpus.ips[5])]
    return qs[:50]


def run_queries(qs, users: dict, reps: int) -> list[dict]:
    from chatserver.search.service import search_messages

    out = []
    for cat, who, q in qs:
        for sort in ("recent", "relevance"):
            search_messages(users[who], q, sort=sort)  # warm-up
            times, found = [], 0
            for _ in range(reps):
                t0 = time.perf_counter()
                page = search_messages(users[who], q, sort=sort)
                times.append((time.perf_counter() - t0) * 1000)
                found = len(page.results)
            out.append({"category": cat, "q": q, "sort": sort, "ms": times,
                        "results": found})
    return out


def summarize(rows: list[dict]) -> dict:
    out: dict = {}
    for sort in ("recent", "relevance"):
        mine = [r for r in rows if r["sort"] == sort]
        out[sort] = {"all": _ms([t for r in mine for t in r["ms"]])}
        for cat in dict.fromkeys(r["category"] for r in mine):
            out[sort][cat] = _ms([t for r in mine if r["category"] == cat for t in r["ms"]])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench search", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=["postgres", "sqlite"], required=True)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--pg-db", default="search_bench")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--write-rate", type=float, default=50.0)
    parser.add_argument("--insert-sample", type=int, default=2000)
    parser.add_argument("--tag", default="")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the database an earlier run with the same --messages "
                             "loaded: migrate it and run only the queries and inserts")
    parser.add_argument("--quiet-timeout", type=float, default=300.0,
                        help="wait up to this long for other processes to leave the CPUs "
                             "alone before measuring")
    args = parser.parse_args(argv)
    prepare_env(args)
    from django.core.management import call_command
    from django.db import connection

    from chatserver.search import schema

    result: dict = {"engine": args.engine, "messages": args.messages, "users": USERS,
                    "rooms": ROOMS, "started": datetime.now(UTC).isoformat()}
    quiet = {"limit": 0.3, "timeout": args.quiet_timeout, "exclude": [os.getpid()]}
    if args.reuse:
        users, rooms, everyone, guest = reuse_database(args, corpus := Corpus(args.messages))
        result["reused"] = True
        writer = Writer(corpus, [r.id for r in rooms], users[0].id)
    else:
        log(f"migrating a fresh {args.engine} database")
        call_command("migrate", verbosity=0)
        schema.uninstall(connection)
        users, rooms, everyone, guest = seed_people()
        corpus = Corpus(args.messages)
        log(f"loading {args.messages} messages")
        result["load_seconds"] = round(load_messages(corpus, users, rooms), 1)
        log(f"loaded in {result['load_seconds']} s")
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("VACUUM ANALYZE chat_message")
        writer = Writer(corpus, [r.id for r in rooms], users[0].id)
        result["quiet_before_inserts"] = wait_quiet(**quiet)
        log("insert cost without search indexing")
        result["inserts_without_index"] = writer.rate(args.insert_sample)
        log(f"  {result['inserts_without_index']['per_second']}/s; building the search index")
        t0 = time.monotonic()
        schema.install(connection)
        result["index_build_seconds"] = round(time.monotonic() - t0, 1)
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE chat_message" if connection.vendor == "postgresql"
                    else "ANALYZE")
    result["index_size"] = index_size()
    log(f"  built in {result.get('index_build_seconds', '(reused)')} s: {result['index_size']}")
    result["inserts_with_index"] = writer.rate(args.insert_sample)
    log(f"  {result['inserts_with_index']['per_second']}/s with indexing")
    qs = query_set(corpus, args.messages)
    result["queries"] = [{"category": c, "searcher": w, "q": q,
                          "df": corpus.df.get(q, None)} for c, w, q in qs]
    log(f"running {len(qs)} queries x 2 sorts x {args.reps} while writing "
        f"{args.write_rate:g} msgs/s")
    result["quiet_before_queries"] = wait_quiet(**quiet)
    # The writer is a process of its own, as sends come from the server: as a
    # thread here it would hold the queries back on the GIL, not the database.
    ctx = multiprocessing.get_context("fork")
    stop, lat_out = ctx.Event(), ctx.SimpleQueue()
    connection.close()  # no socket is shared: the child opens its own
    if connection.vendor == "postgresql" and connection.pool is not None:
        connection.close_pool()
    child = ctx.Process(target=_write_loop, args=(writer, args.write_rate, stop, lat_out),
                        daemon=True)
    t0 = time.monotonic()
    steal0 = steal_jiffies()
    child.start()
    rows = run_queries(qs, {"searcher": everyone, "guest": guest}, args.reps)
    stop.set()
    write_lat: list[float] = lat_out.get()
    child.join()
    # On a virtual machine the host may take CPU time from it while the queries
    # run; latency percentiles from such a run say more about the host.
    result["cpu_steal_share"] = steal_share(steal0)
    secs = time.monotonic() - t0
    result["latency_ms"] = summarize(rows)
    result["per_query"] = [{k: r[k] for k in ("category", "q", "sort", "results")}
                           | {"median_ms": round(statistics.median(r["ms"]), 2)} for r in rows]
    result["writes_during_queries"] = {"achieved_per_second": round(len(write_lat) / secs, 1),
                                       **_ms(write_lat)}
    result["seconds"] = round(secs, 1)
    result["loadavg_after"] = Path("/proc/loadavg").read_text().split()[:3]
    for sort in ("recent", "relevance"):
        lat = result["latency_ms"][sort]
        log(f"{sort:9s} " + "  ".join(f"{k} p50 {v['p50']} p95 {v['p95']}"
                                      for k, v in lat.items()))
    log(f"writes during queries: {result['writes_during_queries']}; "
        f"CPU time taken by the host: {result['cpu_steal_share']:.1%}")
    RESULTS_DIR.mkdir(exist_ok=True)
    size = f"{args.messages // 1000}k"
    name = f"{datetime.now(UTC):%Y-%m-%d}-search-{args.engine}-{size}{args.tag}.json"
    path = Path(RESULTS_DIR) / name
    path.write_text(json.dumps(result, indent=1) + "\n")
    log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
