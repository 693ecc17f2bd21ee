"""Fault-test tools without Django: a resending client, private Redis and
PostgreSQL servers started and stopped by PID (never the machine's shared ones)."""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import subprocess
from pathlib import Path

import websockets

from tests.liveserver import free_port
from tests.wsclient import WS


class Sender:
    """A client that sends numbered messages with client_msg_ids and resends
    whatever was not acknowledged, as the web client's outbox does."""

    def __init__(self, tag: str, room: int, count: int):
        self.tag, self.room, self.count = tag, room, count
        self.acked: dict[str, int] = {}  # client_msg_id -> message id
        self.errors: list[str] = []
        self.closes: list[int | None] = []  # close codes of sockets the server dropped

    def cmid(self, i: int) -> str:
        return f"{self.tag}-{i}"

    async def send_all(self, ws: WS, pace: float = 0.0) -> None:
        """Send every not-yet-acked message on this socket and read the acks;
        stops quietly when the socket dies (the caller reconnects and calls again)."""
        pending = [i for i in range(self.count) if self.cmid(i) not in self.acked]
        try:
            for i in pending:
                await ws.send({"type": "message.send", "room": self.room,
                               "body": f"{self.tag} {i}", "client_msg_id": self.cmid(i)})
                if pace:
                    await asyncio.sleep(pace)
            while any(self.cmid(i) not in self.acked for i in pending):
                frame = await ws.recv(15)
                if frame.get("type") == "ack":
                    self.acked[frame["client_msg_id"]] = frame["message"]["id"]
                elif frame.get("type") == "error" and frame.get("ref"):
                    self.errors.append(frame["code"])  # retried on the next round
                    pending.remove(int(frame["ref"].rsplit("-", 1)[1]))
        except websockets.ConnectionClosed as exc:
            self.closes.append(exc.rcvd.code if exc.rcvd else None)
        except (OSError, TimeoutError):
            return


def pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else None


class PrivatePostgres:
    """A throwaway PostgreSQL cluster (initdb into a temp dir, pg_ctl on a free port)."""

    def __init__(self, workdir: Path):
        self.dir = workdir
        self.data = workdir / "pgdata"
        self.port = free_port()
        self.initdb, self.pg_ctl = pg_bin("initdb"), pg_bin("pg_ctl")

    @property
    def available(self) -> bool:
        return bool(self.initdb and self.pg_ctl)

    def url(self, db: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{db}"

    def _as_owner(self, argv: list[str]) -> list[str]:
        """PostgreSQL refuses to run as root: run it as the postgres OS user then."""
        if os.geteuid() != 0:
            return argv
        return ["runuser", "-u", "postgres", "--", *argv]

    def init(self) -> PrivatePostgres:
        assert self.initdb is not None
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        subprocess.run(self._as_owner([self.initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust",
                        "--no-sync", "-E", "UTF8", "--locale=C"]),
                       check=True, capture_output=True)
        return self

    def start(self) -> None:
        assert self.pg_ctl is not None
        subprocess.run(self._as_owner([self.pg_ctl, "-D", str(self.data), "-l",
                                       str(self.dir / "pg.log"),
                        "-w", "-t", "30", "-o",
                        f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                        "-c max_connections=200", "start"]),
                       check=True, capture_output=True)

    def stop(self, mode: str = "fast") -> None:
        """mode "immediate" is a crash: no checkpoint, recovery on the next start."""
        assert self.pg_ctl is not None
        subprocess.run(self._as_owner([self.pg_ctl, "-D", str(self.data), "-m", mode, "-w",
                                       "stop"]),
                       capture_output=True)
