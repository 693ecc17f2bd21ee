"""The real-time fixtures (users, no send limit in this process) apply here too."""

from tests.realtime.conftest import (  # noqa: F401
    _close_worker_connections,
    _no_send_limit_in_this_process,
    users,
)
