"""Optional py-spy sampling of the server processes during a measured window.

Enabled with `--profile` (needs a py-spy binary: on PATH, or BENCH_PYSPY=/path).
Only the thread holding the GIL is sampled (`--gil`): a server process runs one
thread of Python at a time, so this is where its CPU goes (time spent waiting for
the database or for the GIL does not show). Raw stacks are kept next to the server
logs; a summary goes into the result: the share of GIL time on the event-loop
thread vs the thread pool, and the hottest functions, by own time and including
callees.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path

SKIP = ("threading.py", "concurrent/futures/thread.py", "manage.py", "asyncio/runners.py",
        "django/core/management", "uvicorn/main.py", "uvicorn/server.py", "uvicorn/_compat.py",
        "serve.py", "asgiref/sync.py", "asyncio/events.py", "asyncio/base_events.py",
        "daphne/cli.py", "daphne/server.py", "twisted/internet/base.py",
        "twisted/internet/asyncioreactor.py")


def pyspy() -> str | None:
    return os.environ.get("BENCH_PYSPY") or shutil.which("py-spy")


class Profiler:
    def __init__(self, pids: list[int], outdir: Path, label: str, rate: int = 100):
        self.pids = pids
        self.outdir = outdir
        self.label = label
        self.rate = rate
        self.procs: list[tuple[int, Path, subprocess.Popen]] = []

    def start(self, seconds: float) -> None:
        exe = pyspy()
        if exe is None:
            return
        for pid in self.pids:
            out = self.outdir / f"profile-{self.label}-{pid}.txt"
            proc = subprocess.Popen(
                [exe, "record", "-p", str(pid), "-d", str(max(1, int(seconds))),
                 "-r", str(self.rate), "-f", "raw", "-o", str(out), "--nonblocking", "--gil"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.procs.append((pid, out, proc))

    def finish(self) -> dict:
        out = {}
        for pid, path, proc in self.procs:
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()  # our own py-spy child, by its PID
                proc.wait(5)
            if path.exists():
                out[str(pid)] = summarize(path)
        return out


def _name(frame: str) -> str:
    fn, _, where = frame.partition(" (")
    path = where.split(":")[0]
    if "site-packages/" in path:
        path = path.split("site-packages/", 1)[1]
    elif "/lib/python3" in path:
        path = path.split("/lib/python3", 1)[1].split("/", 1)[-1]
    elif "/work/main/" in path:
        path = path.split("/work/main/", 1)[1]
    return f"{fn} ({path})"


def summarize(path: Path, top: int = 25) -> dict:
    total = 0
    own: Counter = Counter()
    incl: Counter = Counter()
    threads: Counter = Counter()
    for line in path.read_text(errors="replace").splitlines():
        stack, _, n_s = line.rpartition(" ")
        if not stack or not n_s.isdigit():
            continue
        n = int(n_s)
        frames = stack.split(";")
        total += n
        # Thread-pool stacks start in threading; everything else is the event loop
        # (with uvloop, callbacks can show up without their parent frames).
        pool_thread = frames[0].startswith("Thread._bootstrap")
        threads["worker_threads" if pool_thread else "event_loop_thread"] += n
        seen = set()
        for f in frames:
            if any(s in f for s in SKIP):
                continue
            key = _name(f)
            if key not in seen:
                incl[key] += n
                seen.add(key)
        own[_name(frames[-1])] += n
    if not total:
        return {"samples": 0}

    def pct(c: Counter) -> list[list]:
        return [[k, round(100.0 * v / total, 1)] for k, v in c.most_common(top)]

    return {
        "samples": total,
        "threads_pct": {k: round(100.0 * v / total, 1) for k, v in threads.items()},
        "own_time_pct": pct(own),
        "inclusive_pct": pct(incl),
        "raw": str(path),
    }
