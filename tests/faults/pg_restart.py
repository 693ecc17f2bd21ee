"""PostgreSQL restarted while clients send: a fault drill on a PRIVATE cluster.

    .venv/bin/python -m tests.faults.pg_restart [--crash] [--json]

Starts its own PostgreSQL cluster (initdb in a temp dir, pg_ctl on a free port;
the machine's shared server is never touched) and its own redis-server, two
server processes against them, and four socket clients (two per process) that
send numbered messages with client_msg_ids and resend whatever was not
acknowledged (after an error frame or a dropped socket), as the web client's
outbox does. Midway PostgreSQL is stopped (fast shutdown, or --crash: immediate,
i.e. no checkpoint and crash recovery on start) for two seconds and started
again. Then it reports, from the database itself: acked, stored, lost (acked but
not stored), duplicated (a client_msg_id stored twice), and the error codes
clients saw. Exit status 0 when nothing was lost or duplicated and every
message was eventually acknowledged. tests/faults/test_pg_restart.py runs it
in the PostgreSQL pass.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg

from bench.env import PrivateRedis
from tests.liveserver import ROOT, LiveServer
from tests.wsclient import WS

from .tools import PrivatePostgres, Sender

SETUP = """
import json
from chatserver.accounts.models import ApiToken, User
from chatserver.chat import actions
users = []
for name in ("s1", "s2", "s3", "s4"):
    u = User(username=name, display_name=name)
    u.set_unusable_password()
    u.save()
    users.append(u)
room = actions.create_room(actor=users[0], name="drill")
actions.invite(actor=users[0], room_id=room.id, user_ids=[u.id for u in users[1:]])
print(json.dumps({"room": room.id, "tokens": [ApiToken.issue(u)[1] for u in users]}))
"""


def _manage(db_url: str, *args: str) -> str:
    env = dict(os.environ, DATABASE_URL=db_url)
    env.pop("REDIS_URL", None)
    out = subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env,
                         check=True, capture_output=True, text=True)
    return out.stdout


async def _drive(servers: list[LiveServer], world: dict[str, Any], pg: PrivatePostgres,
                 per_sender: int, crash: bool) -> dict[str, Any]:
    room = world["room"]
    senders = [Sender(f"s{i}", room, per_sender) for i in range(4)]
    homes = [servers[i % 2] for i in range(4)]
    resend_rounds = 0
    outage: dict[str, float] = {}

    async def client(i: int) -> None:
        nonlocal resend_rounds
        deadline = time.monotonic() + 90
        while len(senders[i].acked) < per_sender and time.monotonic() < deadline:
            try:
                ws = await WS.connect(homes[i], world["tokens"][i])
            except OSError:
                await asyncio.sleep(0.5)
                continue
            try:
                await senders[i].send_all(ws, pace=0.005)
            finally:
                await ws.conn.close()
            if len(senders[i].acked) < per_sender:
                resend_rounds += 1
                await asyncio.sleep(0.3)  # back off, then resend what is not acked

    async def restart() -> None:
        while sum(len(s.acked) for s in senders) < per_sender:  # a quarter in
            await asyncio.sleep(0.01)
        outage["stopped_at_acked"] = sum(len(s.acked) for s in senders)
        t0 = time.monotonic()
        await asyncio.to_thread(pg.stop, "immediate" if crash else "fast")
        await asyncio.sleep(2.0)
        await asyncio.to_thread(pg.start)
        outage["down_seconds"] = round(time.monotonic() - t0, 2)

    started = time.monotonic()
    await asyncio.gather(restart(), *(client(i) for i in range(4)))
    elapsed = round(time.monotonic() - started, 2)

    with psycopg.connect(pg.url("chat").replace("postgres://", "postgresql://")) as conn:
        rows = conn.execute("SELECT client_msg_id, id FROM chat_message WHERE room_id = %s "
                            "AND client_msg_id IS NOT NULL AND client_msg_id <> ''",
                            (room,)).fetchall()
        seqs = [r[0] for r in conn.execute(
            "SELECT seq FROM chat_message WHERE room_id = %s ORDER BY seq", (room,))]
    stored = Counter(r[0] for r in rows)
    acked = {cmid for s in senders for cmid in s.acked}
    return {
        "messages": 4 * per_sender,
        "acked": len(acked),
        "stored": len(stored),
        "lost": sorted(acked - set(stored))[:20],
        "duplicated": sorted(c for c, n in stored.items() if n > 1)[:20],
        "unacked": 4 * per_sender - len(acked),
        "seq_unique": len(seqs) == len(set(seqs)),
        "client_errors": dict(Counter(e for s in senders for e in s.errors)),
        "resend_rounds": resend_rounds,
        "close_codes": dict(Counter(str(c) for s in senders for c in s.closes)),
        "elapsed_s": elapsed,
        "crash": crash,
        **outage,
    }


def run(per_sender: int = 60, crash: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="pgfault-") as tmp:
        workdir = Path(tmp)
        pg = PrivatePostgres(workdir)
        if not pg.available:
            return {"skipped": "initdb/pg_ctl not found under /usr/lib/postgresql/*/bin"}
        redis_srv = PrivateRedis(workdir)
        servers: list[LiveServer] = []
        pg.init()
        pg.start()
        try:
            redis_srv.start()
            with psycopg.connect(pg.url().replace("postgres://", "postgresql://"),
                                 autocommit=True) as conn:
                conn.execute("CREATE DATABASE chat")
            db_url = pg.url("chat")
            _manage(db_url, "migrate", "--noinput")
            world = json.loads(_manage(db_url, "shell", "-c", SETUP).strip().splitlines()[-1])
            env = {"REDIS_URL": redis_srv.url}
            servers = [LiveServer(db_url, env_overrides=env).start() for _ in range(2)]
            report = asyncio.run(_drive(servers, world, pg, per_sender, crash))
            report["server_errors_logged"] = sum(
                s.log().count("Traceback") for s in servers)
            return report
        finally:
            for s in servers:
                s.stop()
            redis_srv.stop()
            pg.stop("fast")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crash", action="store_true", help="stop PostgreSQL -m immediate")
    parser.add_argument("--per-sender", type=int, default=60)
    args = parser.parse_args()
    report = run(args.per_sender, args.crash)
    print(json.dumps(report, indent=2))
    ok = "skipped" in report or (not report["lost"] and not report["duplicated"]
                                 and report["unacked"] == 0 and report["seq_unique"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
