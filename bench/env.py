"""A fresh environment per run: data dir or database, migrations, seed, server processes.

embedded:   SQLite under a fresh CHAT_DATA_DIR, no Redis, 1 server process.
production: PostgreSQL database `bench` (dropped and created again), Redis db 5
            (flushed), 2 server processes sharing them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from .util import PYTHON, ROOT, WORK_DIR, cpu_seconds, free_port, log, rss_kib

PG_ADMIN = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
PG_DB = os.environ.get("BENCH_PG_DB", "bench")
# "private" (default): a redis-server of our own on a free port, because Redis pub/sub
# channels are not scoped by database number: the server's chat:room:<id> and
# chat:user:<id> channels on the shared Redis also carry other deployments' (and
# test runs') events. Or a URL such as redis://127.0.0.1:6379/5.
REDIS = os.environ.get("BENCH_REDIS", "private")
ERROR_RE = re.compile(r"Traceback|\bERROR\b|\bCRITICAL\b")
# uvicorn's own line when it is stopped with work still running (a backlog): reported
# apart, it is not an error in serving.
SHUTDOWN_RE = re.compile(r"graceful shutdown exceeded")

# Variables of the caller's environment that must not leak into a run.
SCRUB = ("DATABASE_URL", "REDIS_URL", "CHAT_DATA_DIR", "CHAT_SEND_RATE", "CHAT_FRAME_RATE",
         "CHAT_SOCKET_QUEUE", "CHAT_BOT_SEND_RATE", "CHAT_LOGIN_RATE", "DEBUG", "CHAT_SERVER")


def _pg_parts() -> tuple[str, str, str]:
    rest = PG_ADMIN.split("://", 1)[1]
    user, _, hostport = rest.rpartition("@")
    host, _, port = hostport.partition(":")
    return user or "postgres", host or "127.0.0.1", port or "5432"


def log_errors(path: Path) -> tuple[int, list[str], list[str]]:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return 0, [], []
    shutdown = [ln for ln in lines if SHUTDOWN_RE.search(ln)]
    hits = [ln for ln in lines if ERROR_RE.search(ln) and not SHUTDOWN_RE.search(ln)]
    return len(hits), hits[:8], shutdown


@dataclass
class Server:
    port: int
    kind: str
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen | None = None
    spawned_at: float = 0.0

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def spawn(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        out = self.log_path.open("ab")
        self.spawned_at = time.monotonic()
        entry = ([PYTHON, "-m", "bench.serve_wrapper"] if self.env.get("BENCH_SWITCH_INTERVAL")
                 else [PYTHON, str(ROOT / "manage.py")])
        self.proc = subprocess.Popen(
            [*entry, "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--server", self.kind],
            cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
        )
        out.close()

    def wait_healthy(self, timeout: float = 30.0) -> float:
        """Wait for GET /healthz to answer 200; return seconds since spawn."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server on {self.port} exited:\n{self.tail()}")
            try:
                url = f"{self.http_url}/healthz"  # http://127.0.0.1 only
                with urllib.request.urlopen(url, timeout=1.0) as r:  # noqa: S310
                    if r.status == 200:
                        return time.monotonic() - self.spawned_at
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"server on {self.port} not healthy after {timeout}s:\n{self.tail()}")

    def stop(self) -> None:
        """SIGTERM by PID, then SIGKILL by PID if it does not exit."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def rss_kib(self) -> int:
        return rss_kib(self.pid)

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def tail(self, n: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def errors(self) -> tuple[int, list[str], list[str]]:
        """Count log lines that look like server errors; return a few of them, and
        apart from them the lines saying shutdown had to cancel running work."""
        return log_errors(self.log_path)


class PrivateRedis:
    """A throwaway redis-server (no persistence), stopped by PID."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = workdir
        self.proc: subprocess.Popen | None = None

    def start(self) -> PrivateRedis:
        """Start (or start again after stop()) and wait until it answers."""
        self.dir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.dir), "--maxclients", "10000"],
            stdout=(self.dir / "redis.log").open("ab"), stderr=subprocess.STDOUT)
        import redis

        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(self.url).ping()
                return self
            except Exception:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@dataclass
class Setup:
    mode: str  # embedded | production
    server: str  # uvicorn | daphne
    name: str
    server_env: dict[str, str] = field(default_factory=dict)
    servers: list[Server] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.dir = WORK_DIR / self.name
        self.procs = 1 if self.mode == "embedded" else 2
        self.redis: PrivateRedis | None = None
        self.redis_url = REDIS

    # --- environment -------------------------------------------------------------

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in SCRUB}
        env["DJANGO_SETTINGS_MODULE"] = "chatserver.settings"
        env["PYTHONUNBUFFERED"] = "1"
        env["CHAT_DATA_DIR"] = str(self.dir / "data")
        env["SECRET_KEY"] = "bench-not-secret"
        if self.mode == "production":
            env["DATABASE_URL"] = f"{PG_ADMIN}/{PG_DB}"
            env["REDIS_URL"] = self.redis_url
        env.update(self.server_env)
        return env

    def reset(self) -> None:
        """Fresh data dir; for production a fresh database and an empty Redis db."""
        if self.dir.exists():
            shutil.rmtree(self.dir)
        (self.dir / "data").mkdir(parents=True)
        if self.mode == "production":
            user, host, port = _pg_parts()
            base = ["-h", host, "-p", port, "-U", user]
            subprocess.run(["dropdb", *base, "--if-exists", "--force", PG_DB], check=True)
            subprocess.run(["createdb", *base, PG_DB], check=True)
            if REDIS == "private":
                if self.redis is None:
                    self.redis = PrivateRedis(self.dir / "redis")
                    self.redis_url = self.redis.start().url
            else:
                import redis  # from the venv

                redis.Redis.from_url(REDIS).flushdb()

    def migrate(self) -> float:
        t0 = time.monotonic()
        subprocess.run([PYTHON, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"],
                       cwd=ROOT, env=self.env(), check=True)
        return time.monotonic() - t0

    def seed(self, plan: dict) -> dict:
        plan_path = self.dir / "plan.json"
        out_path = self.dir / "seed.json"
        plan_path.write_text(json.dumps(plan))
        log(f"seeding {plan['users']} users, {len(plan['rooms'])} rooms, "
            f"{sum(len(r) for r in plan['rooms'])} memberships")
        subprocess.run([PYTHON, "-m", "bench.seed", str(plan_path), str(out_path)],
                       cwd=ROOT, env=self.env(), check=True)
        return json.loads(out_path.read_text())

    def prepare(self, plan: dict) -> dict:
        self.reset()
        t = self.migrate()
        log(f"fresh {self.mode} environment migrated in {t:.1f} s")
        return self.seed(plan)

    # --- servers -------------------------------------------------------------------

    def make_servers(self) -> list[Server]:
        self.servers = [
            Server(port=free_port(), kind=self.server, env=self.env(),
                   log_path=self.dir / f"server-{i}.log")
            for i in range(self.procs)
        ]
        return self.servers

    def start_servers(self) -> list[Server]:
        self.make_servers()
        for s in self.servers:
            s.spawn()
        for s in self.servers:
            s.wait_healthy()
        log(f"{len(self.servers)} {self.server} process(es) up: "
            + ", ".join(f"pid {s.pid} port {s.port}" for s in self.servers))
        return self.servers

    def stop_servers(self) -> None:
        for s in self.servers:
            s.stop()

    def close(self) -> None:
        """Stop everything this setup started (servers, then a private Redis)."""
        self.stop_servers()
        if self.redis is not None:
            self.redis.stop()
            self.redis = None

    def server_errors(self) -> dict:
        total = 0
        sample: list[str] = []
        shutdown: list[str] = []
        for s in self.servers:
            n, hits, down = s.errors()
            total += n
            sample += hits
            shutdown += down
        out: dict = {"count": total, "sample": sample[:10]}
        if shutdown:
            out["shutdown_cancelled_work"] = shutdown[:4]
        return out
