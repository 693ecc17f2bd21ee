"""Sample pg_stat_activity of the bench database during a measured window (production).

Shows where writers wait: `lock` counts backends waiting for a lock (for one busy
room: the chat_room row that `UPDATE ... SET last_seq = last_seq + 1` locks until
commit), `active` backends running a statement, `idle_in_tx` backends inside a
transaction but waiting for the application (a server thread between statements).
"""

from __future__ import annotations

import threading
import time
from collections import Counter

QUERY = """
SELECT state, wait_event_type, wait_event
FROM pg_stat_activity
WHERE datname = %s AND pid <> pg_backend_pid()
"""


class PgSampler:
    def __init__(self, dsn: str, database: str, interval: float = 0.1):
        self.dsn = dsn
        self.database = database
        self.interval = interval
        self.samples = 0
        self.totals: Counter = Counter()
        self.peaks: Counter = Counter()
        self.events: Counter = Counter()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: str | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            import psycopg

            with psycopg.connect(self.dsn, autocommit=True) as conn:
                while not self._stop.is_set():
                    rows = conn.execute(QUERY, (self.database,)).fetchall()
                    now: Counter = Counter()
                    for state, wtype, wevent in rows:
                        if wtype == "Lock":
                            now["lock"] += 1
                            self.events[f"Lock:{wevent}"] += 1
                        elif state == "active":
                            now["active"] += 1
                        elif state == "idle in transaction":
                            now["idle_in_tx"] += 1
                    self.samples += 1
                    for k in ("lock", "active", "idle_in_tx"):
                        self.totals[k] += now[k]
                        self.peaks[k] = max(self.peaks[k], now[k])
                    time.sleep(self.interval)
        except Exception as exc:  # noqa: BLE001 - a sampler must not break the run
            self.error = repr(exc)

    def stop(self) -> dict:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        if self.error:
            return {"error": self.error}
        n = max(1, self.samples)
        return {
            "samples": self.samples,
            "mean": {k: round(self.totals[k] / n, 2) for k in ("lock", "active", "idle_in_tx")},
            "max": dict(self.peaks),
            "lock_waits_by_event": dict(self.events.most_common(5)),
        }
