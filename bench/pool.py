"""Client worker processes, driven from the parent with progress output."""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import time
from collections.abc import Callable

from .client import (
    ACKED,
    CLOSES,
    CONNECTED,
    ERRORS,
    NCOUNTERS,
    READY,
    RECONNECTS,
    RECV,
    SENT,
    worker_main,
)
from .util import log


class WorkerError(RuntimeError):
    pass


class Pool:
    def __init__(self, specs: list[dict], workers: int, opts: dict,
                 watch: Callable[[], str] | None = None):
        ctx = mp.get_context("spawn")
        self.n = max(1, min(workers, len(specs)))
        self.counters = ctx.RawArray("q", self.n * NCOUNTERS)
        self.pipes = []
        self.procs = []
        self.watch = watch  # extra text for progress lines (e.g. server RSS)
        self.owner: dict[int, int] = {}
        for w in range(self.n):
            mine = specs[w::self.n]
            for s in mine:
                self.owner[s["idx"]] = w
            parent, child = ctx.Pipe()
            p = ctx.Process(target=worker_main, args=(w, child, mine, self.counters, opts),
                            daemon=True, name=f"bench-worker-{w}")
            p.start()
            child.close()
            self.pipes.append(parent)
            self.procs.append(p)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs if p.pid is not None]

    def totals(self) -> dict[str, int]:
        names = {CONNECTED: "conn", READY: "ready", SENT: "sent", ACKED: "acked",
                 RECV: "recv", ERRORS: "err", CLOSES: "closes", RECONNECTS: "reconn"}
        out = {}
        for slot, name in names.items():
            out[name] = sum(self.counters[w * NCOUNTERS + slot] for w in range(self.n))
        return out

    def call(self, op: str, args: dict | None = None, *, workers: list[int] | None = None,
             per_worker: dict[int, dict] | None = None, timeout: float = 600.0,
             progress: float = 2.0, label: str = "",
             timers: list[tuple[float, Callable[[], None]]] | None = None) -> list[dict]:
        """Send one command to workers; wait for all replies, printing progress."""
        targets = list(range(self.n)) if workers is None else workers
        for w in targets:
            a = dict(args or {})
            if per_worker and w in per_worker:
                a.update(per_worker[w])
            self.pipes[w].send({"op": op, "args": a})
        replies: dict[int, dict] = {}
        start = time.monotonic()
        last_print = start
        last_recv = self.totals()["recv"]
        pending_timers = sorted(timers or [], key=lambda t: t[0])
        while len(replies) < len(targets):
            for w in targets:
                if w in replies:
                    continue
                if self.pipes[w].poll(0.05):
                    replies[w] = self.pipes[w].recv()
                elif not self.procs[w].is_alive():
                    raise WorkerError(f"worker {w} died during {op}")
            now_wall = time.time()
            while pending_timers and pending_timers[0][0] <= now_wall:
                pending_timers.pop(0)[1]()
            now = time.monotonic()
            if progress and now - last_print >= progress:
                t = self.totals()
                rate = (t["recv"] - last_recv) / (now - last_print)
                last_recv = t["recv"]
                last_print = now
                extra = self.watch() if self.watch else ""
                log(f"  {label or op} +{now - start:5.1f}s conn={t['conn']} ready={t['ready']} "
                    f"sent={t['sent']} acked={t['acked']} recv={t['recv']} "
                    f"({rate / 1000:.1f}k frames/s) err={t['err']} closes={t['closes']}"
                    f"{extra}")
            if now - start > timeout:
                raise WorkerError(f"{op} timed out after {timeout}s")
        for t_at, fn in pending_timers:  # timers that did not fire yet still run, late
            del t_at
            fn()
        out = [replies[w] for w in targets]
        errors = [r for r in out if isinstance(r, dict) and "error" in r]
        if errors:
            raise WorkerError(f"{op} failed in a worker: {errors[0]['error']}\n"
                              f"{errors[0].get('traceback', '')}")
        return out

    def close(self) -> None:
        for w, pipe in enumerate(self.pipes):
            if self.procs[w].is_alive():
                with contextlib.suppress(BrokenPipeError, OSError):
                    pipe.send({"op": "exit"})
        deadline = time.monotonic() + 10
        for w, p in enumerate(self.procs):
            try:
                while time.monotonic() < deadline and self.pipes[w].poll(0.1):
                    self.pipes[w].recv()
            except (EOFError, OSError):
                pass
            p.join(max(0.1, deadline - time.monotonic()))
            if p.is_alive():
                p.terminate()  # SIGTERM to this worker's own PID
                p.join(5)
