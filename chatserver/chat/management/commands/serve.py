"""Run one server process (uvicorn by default, or daphne)."""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand

APP = "chatserver.asgi:application"


class Command(BaseCommand):
    help = "Serve HTTP and WebSockets with uvicorn (default) or daphne."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--server", choices=["uvicorn", "daphne"],
                            default=os.environ.get("CHAT_SERVER", "uvicorn"))

    def handle(self, *args, host: str, port: int, server: str, **options):
        self.stdout.write(f"Serving on http://{host}:{port}/ with {server}", ending="\n")
        self.stdout.flush()
        if server == "daphne":
            from daphne.cli import CommandLineInterface

            CommandLineInterface().run(
                ["-b", host, "-p", str(port), "--websocket_timeout", "-1",
                 "--application-close-timeout", "5", APP]
            )
            return
        import uvicorn

        uvicorn.run(
            APP,
            host=host,
            port=port,
            lifespan="off",
            ws="websockets-sansio",
            ws_max_size=1024 * 1024,
            # Deflate costs ~130 KiB per idle socket and 4x CPU per frame.
            ws_per_message_deflate=False,
            ws_ping_interval=20,
            ws_ping_timeout=20,
            log_level=os.environ.get("UVICORN_LOG_LEVEL", "warning"),
            timeout_graceful_shutdown=5,
            proxy_headers=True,
            server_header=False,
        )
