"""The status bot against a real local HTTP server (127.0.0.1 allowed for the test)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings

from bots.builtin.models import StatusEndpoint
from bots.builtin.status import StatusBot


class _Handler(BaseHTTPRequestHandler):
    codes: dict[str, int] = {}

    def do_GET(self):  # noqa: N802
        code = self.codes.get(self.path, 404)
        self.send_response(code)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Handler.codes = {"/health": 200, "/flaky": 200}
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def allow_loopback(monkeypatch):
    monkeypatch.setitem(settings.CHAT, "WEBHOOK_ALLOW_NETS", ["127.0.0.1/32"])


def test_check_now_and_transitions(botbox, http_server, allow_loopback):
    box = botbox(StatusBot)
    ann = box.user("ann")
    ops = box.room("ops", members=[ann], bots=["status"])
    StatusEndpoint.objects.create(name="api", url=f"{http_server}/health", room=ops.room)
    StatusEndpoint.objects.create(name="flaky", url=f"{http_server}/flaky", room=ops.room,
                                  failures_before_down=2)
    ann.says(ops, "@status")
    report = ops.expect_bot(contains="**Status**: 2/2 up")
    assert "🟢 **api**" in report.body and " ms" in report.body
    box.advance("1m")
    assert StatusEndpoint.objects.get(name="flaky").up is True

    _Handler.codes["/flaky"] = 503
    box.advance("1m")  # one failure: the flap guard waits
    assert not [m for m in ops.bot_messages() if "is down" in m.body]
    box.advance("1m")
    ops.expect_bot(contains="🔴 **flaky** is down: answered 503, expected 200")
    box.advance("1m")
    assert len([m for m in ops.bot_messages() if "is down" in m.body]) == 1
    ann.says(ops, "@status check flaky")
    ops.expect_bot(contains="**Status**: 0/1 up")

    _Handler.codes["/flaky"] = 200
    box.advance("1m")
    ops.expect_bot(contains="✅ **flaky** recovered: 200 in")
    ann.says(ops, "@status check nope")
    ops.expect_bot(contains="There is no endpoint `nope`")


def test_private_addresses_are_refused_by_default(botbox, http_server):
    box = botbox(StatusBot)
    ann = box.user("ann")
    ops = box.room("ops", members=[ann], bots=["status"])
    StatusEndpoint.objects.create(name="internal", url=f"{http_server}/health", room=ops.room,
                                  failures_before_down=1)
    ann.says(ops, "@status")
    ops.expect_bot(contains="refused: ")
    box.advance("1m")
    ops.expect_bot(contains="🔴 **internal** is down: refused")
