"""The write path in one process, without sockets: CPU per persisted message.

    python -m bench write [--engine sqlite|postgres] [--messages N] [--batch B]
                          [--threads T] [--rooms R]

Creates a scratch database (SQLite under data/bench/write/, or the PostgreSQL
database `bench_write`, dropped first), R rooms of 2 members, and posts N
messages with the actions layer: one `post_message` call per message
(--batch 1), or `post_messages` with B requests per call (what the socket's
group commit does under load), from T threads. Prints wall time, messages/s
and process CPU per message (server-side Python + driver, not the database
server), and writes nothing to bench/results unless --save.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _prepare(engine: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("REDIS_URL", None)
    if engine == "sqlite":
        data = ROOT / "data" / "bench" / "write"
        shutil.rmtree(data, ignore_errors=True)
        data.mkdir(parents=True)
        env["CHAT_DATA_DIR"] = str(data)
        env.pop("DATABASE_URL", None)
    else:
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc",
                        "DROP DATABASE IF EXISTS bench_write WITH (FORCE)"], check=True)
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc",
                        "CREATE DATABASE bench_write"], check=True)
        env["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/bench_write"
    env["DJANGO_SETTINGS_MODULE"] = "chatserver.settings"
    env["CHAT_SEND_RATE"] = "100000000/10"
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"], env=env,
                   check=True)
    return env


def _run(args: argparse.Namespace) -> dict:
    import django

    django.setup()
    from django.db import close_old_connections

    from chatserver.accounts.models import User
    from chatserver.chat import actions

    admin = User.objects.create(username="w-admin", role="owner", password="!")
    users = [User.objects.create(username=f"w{i}", password="!") for i in range(args.rooms * 2)]
    rooms = []
    for r in range(args.rooms):
        room = actions.create_room(actor=admin, name=f"w-{r}", visibility="public")
        actions.invite(actor=admin, room_id=room.id, user_ids=[users[2 * r].id,
                                                                users[2 * r + 1].id])
        rooms.append(room.id)
    close_old_connections()

    per_thread = args.messages // args.threads
    errors: list[BaseException] = []

    def worker(t: int) -> None:
        try:
            n = 0
            while n < per_thread:
                if args.batch == 1:
                    r = (t * per_thread + n) % args.rooms
                    actions.post_message(actor=users[2 * r], room_id=rooms[r],
                                         body=f"hello **world** {n}", client_msg_id=f"{t}-{n}")
                    n += 1
                else:
                    reqs = []
                    for _ in range(min(args.batch, per_thread - n)):
                        r = (t * per_thread + n) % args.rooms
                        reqs.append(actions.PostRequest(
                            actor=users[2 * r], room_id=rooms[r],
                            body=f"hello **world** {n}", client_msg_id=f"{t}-{n}"))
                        n += 1
                    for res in actions.post_messages(reqs):
                        if isinstance(res, BaseException):
                            raise res
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            close_old_connections()

    cpu0, t0 = time.process_time(), time.perf_counter()
    threads = [threading.Thread(target=worker, args=(t,)) for t in range(args.threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    if errors:
        raise errors[0]
    n = per_thread * args.threads
    return {"engine": args.engine, "messages": n, "batch": args.batch, "threads": args.threads,
            "rooms": args.rooms, "seconds": round(wall, 3), "msgs_per_s": round(n / wall, 1),
            "cpu_ms_per_msg": round(cpu * 1000 / n, 3)}


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench write")
    p.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--messages", type=int, default=2000)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--rooms", type=int, default=100)
    p.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.inner:
        print(json.dumps(_run(args)))
        return 0
    env = _prepare(args.engine)
    out = subprocess.run([sys.executable, "-m", "bench", "write", *argv, "--inner"], env=env,
                         cwd=ROOT, check=True, capture_output=True, text=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(json.dumps(result))
    return 0
