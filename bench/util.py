"""Small shared helpers: paths, /proc readings, percentiles, formatting."""

from __future__ import annotations

import os
import resource
import socket
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
RESULTS_DIR = BENCH_DIR / "results"
WORK_DIR = ROOT / "data" / "bench"  # data/ is git-ignored
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable
CLK_TCK = os.sysconf("SC_CLK_TCK")


def raise_nofile() -> int:
    """Raise the soft file-descriptor limit to the hard one; return the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return soft


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid: int) -> int:
    """VmRSS of a process in KiB (0 if gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds (0 if gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            parts = f.read().rsplit(")", 1)[1].split()
        return (int(parts[11]) + int(parts[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    total = sum(fields[:8])
    return float(total - idle), float(total)


def steal_jiffies() -> tuple[int, int]:
    """(steal, total) jiffies of the whole machine: the CPU time a virtual
    machine's host gave to someone else, which no quiet check here can see."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return (fields[7] if len(fields) > 7 else 0), sum(fields[:8])


def steal_share(since: tuple[int, int]) -> float:
    """The share of the machine's CPU time its host took since `since`
    (a steal_jiffies() reading): 0.0 on a quiet host, 0.1 and more on a busy one."""
    steal, total = steal_jiffies()
    return round((steal - since[0]) / max(1, total - since[1]), 3)


def db_pids(database: str = "bench") -> list[int]:
    """PostgreSQL backends serving `database` (processes titled 'postgres: ... <db> ...')."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                title = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres: ") and f" {database} " in title:
            out.append(int(entry))
    return out


class CpuMeter:
    """CPU used by groups of processes (and by the whole machine) between start() and stop().

    A group is a list of PIDs or a callable returning one (read again at stop, so
    processes that appear meanwhile, like new database backends, count from zero).
    """

    def __init__(self, pids: dict):
        self.pids = pids
        self.t0 = 0.0
        self.c0: dict[str, dict[int, float]] = {}
        self.m0 = (0.0, 0.0)
        self.s0 = (0, 0)

    def _read(self) -> dict[str, dict[int, float]]:
        out = {}
        for k, v in self.pids.items():
            pids = v() if callable(v) else v
            out[k] = {p: cpu_seconds(p) for p in pids}
        return out

    def start(self) -> None:
        self.t0 = time.monotonic()
        self.c0 = self._read()
        self.m0 = machine_cpu()
        self.s0 = steal_jiffies()

    def stop(self) -> dict[str, float]:
        dt = max(1e-6, time.monotonic() - self.t0)
        r1 = self._read()
        m1 = machine_cpu()
        c1 = {k: sum(v.values()) for k, v in r1.items()}
        c0 = {k: sum(self.c0.get(k, {}).get(p, 0.0) for p in r1[k]) for k in r1}
        out = {f"{k}_cores": round((c1[k] - c0[k]) / dt, 2) for k in c1}
        busy = m1[0] - self.m0[0]
        total = max(1.0, m1[1] - self.m0[1])
        ncpu = os.cpu_count() or 1
        out["machine_busy_pct"] = round(100.0 * busy / total, 1)
        # Cores used by everything else on the machine (other sessions, postgres, redis).
        mine = sum((c1[k] - c0[k]) / dt for k in c1)
        out["other_cores"] = round(max(0.0, ncpu * busy / total - mine), 2)
        out["cpu_steal_share"] = steal_share(self.s0)
        return out


def background_cores(seconds: float = 1.0, exclude: list[int] | None = None) -> float:
    """Cores busy on the machine over `seconds`, minus the given processes."""
    pids = exclude or []
    c0 = sum(cpu_seconds(p) for p in pids)
    m0 = machine_cpu()
    time.sleep(seconds)
    m1 = machine_cpu()
    c1 = sum(cpu_seconds(p) for p in pids)
    busy = (m1[0] - m0[0]) / max(1.0, m1[1] - m0[1]) * (os.cpu_count() or 1)
    return max(0.0, busy - (c1 - c0) / seconds)


def wait_quiet(limit: float = 0.25, timeout: float = 300.0, exclude: list[int] | None = None,
               ) -> dict:
    """Wait until other processes use less than `limit` cores (another session's tests
    share this machine); give up after `timeout` and say so."""
    t0 = time.monotonic()
    worst = 0.0
    said = False
    while True:
        bg = background_cores(3.0, exclude)
        if bg < limit:
            return {"background_cores": round(bg, 2), "waited_s": round(time.monotonic() - t0, 1),
                    "quiet": True}
        worst = max(worst, bg)
        if time.monotonic() - t0 > timeout:
            log(f"machine still busy ({bg:.2f} cores used by other processes); measuring anyway")
            return {"background_cores": round(bg, 2), "waited_s": round(time.monotonic() - t0, 1),
                    "quiet": False}
        if not said:
            log(f"waiting for the machine to be quiet ({bg:.2f} cores used by other processes)")
            said = True


def percentiles(values, ps=(50, 95, 99, 99.9)) -> dict[str, float | None]:
    """Exact percentiles (nearest rank) of a sequence of numbers, plus max and count."""
    data = sorted(values)
    n = len(data)
    out: dict[str, float | None] = {"count": n}
    for p in ps:
        key = f"p{p:g}".replace(".", "_")
        if n == 0:
            out[key] = None
        else:
            rank = max(0, min(n - 1, int(round(p / 100.0 * n + 0.5)) - 1))
            out[key] = data[rank]
    out["max"] = data[-1] if n else None
    out["mean"] = (sum(data) / n) if n else None
    return out


def us_to_ms(stats: dict) -> dict:
    """Convert a percentiles() dict of microseconds to milliseconds (count unchanged)."""
    return {k: (v if k == "count" or v is None else round(v / 1000.0, 2)) for k, v in stats.items()}


def fmt_ms(v) -> str:
    return "-" if v is None else (f"{v:.0f}" if v >= 100 else f"{v:.1f}")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)
