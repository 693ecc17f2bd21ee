"""A real HTTP server on 127.0.0.1 that records requests and answers from a script."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


class Receiver:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        # Each answer: (status, body dict or str, delay seconds); the last one repeats.
        self.answers: list[tuple[int, Any, float]] = [(200, {}, 0.0)]
        # Called with each request after it was answered (e.g. to answer later).
        self.after: Callable[[dict[str, Any]], None] | None = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                ctype = self.headers.get("Content-Type", "")
                body = json.loads(raw) if "json" in ctype else {
                    k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
                request = {"path": self.path, "headers": dict(self.headers), "body": body,
                           "content_type": ctype}
                receiver.requests.append(request)
                answers = receiver.answers
                status, answer, delay = answers.pop(0) if len(answers) > 1 else answers[0]
                time.sleep(delay)
                data = (answer if isinstance(answer, str) else json.dumps(answer)).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    self.wfile.flush()
                except OSError:
                    pass  # the client gave up (timeout tests)
                if receiver.after is not None:
                    receiver.after(request)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
