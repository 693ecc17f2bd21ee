"""The write transaction every action runs in.

On SQLite only one writer can hold the database at a time; when several
threads race for it, SQLite's busy handler puts the losers to sleep in steps
of up to 100 ms, so a burst of sends shows second-long stalls. Writers in
this process therefore queue on a lock first and wake as soon as the previous
writer commits. (Separate processes still meet at SQLite's busy timeout: the
embedded setup runs one process.) PostgreSQL needs no such lock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection, transaction

# Re-entrant: Django runs on_commit callbacks as the atomic block exits, still
# inside `with _sqlite_writer`, and a callback that writes through the actions
# (a bot paging on-call when an alert escalates) takes it again on this thread.
_sqlite_writer = threading.RLock()


@contextmanager
def write_transaction() -> Iterator[None]:
    if settings.IS_SQLITE and not connection.in_atomic_block:
        with _sqlite_writer, transaction.atomic():
            yield
    else:
        with transaction.atomic():
            yield
