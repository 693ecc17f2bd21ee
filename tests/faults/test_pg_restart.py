"""PostgreSQL restarted while clients send (pg_restart.py on a private cluster):
nothing acknowledged is lost, nothing is duplicated, every message is
eventually acknowledged. Runs in the PostgreSQL pass, where initdb exists."""

from __future__ import annotations

import pytest

from tests.conftest import requires_postgres

from .pg_restart import run
from .tools import PrivatePostgres

pytestmark = [pytest.mark.live, requires_postgres]


def test_postgres_restart_loses_and_duplicates_nothing(tmp_path):
    if not PrivatePostgres(tmp_path).available:
        pytest.skip("initdb/pg_ctl not installed")
    report = run(per_sender=60, crash=False)
    assert report["lost"] == [] and report["duplicated"] == [], report
    assert report["unacked"] == 0 and report["seq_unique"], report
    assert report["acked"] == report["stored"] == 240, report
    # The outage happened while clients were sending, and they were told.
    assert report["stopped_at_acked"] < 240, report
    assert "server_error" not in report["client_errors"], report
