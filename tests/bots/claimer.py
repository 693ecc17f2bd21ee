"""A separate process that claims due scheduled jobs (tests/bots/test_claims.py).

Imported by multiprocessing's spawn in a fresh interpreter, so Django is set up
here, against the test database the parent hands over, before anything of the
project is imported.
"""

from __future__ import annotations

import os
from typing import Any


def claim_rounds(database_url: str, bots: str, rounds: int, barrier: Any, results: Any) -> None:
    """Each round: wait for the start, claim what is due, report how many were claimed."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["CHAT_BOTS"] = bots
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatserver.settings")
    import django

    django.setup()
    from django.db import connections

    from bots.runtime import runtime

    runtime.sync_users()
    try:
        for _ in range(rounds):
            barrier.wait(30)
            claimed = runtime.run_due_jobs()
            runtime.wait_idle(30)
            results.put((os.getpid(), claimed))
    finally:
        connections.close_all()
