"""Run one server process (uvicorn by default, or daphne)."""

from __future__ import annotations

import logging
import os

from django.core.management.base import BaseCommand

from chatserver.logsafe import RedactHookTokens, redact

APP = "chatserver.asgi:application"

# Messages uvicorn logs with a traceback at ERROR for what is a client's fault
# (a text frame that is not UTF-8 gets close code 1007 anyway): any client
# could fill the log with tracebacks and drown real errors (tests/fuzz/).
CLIENT_FAULTS = ("Invalid UTF-8 sequence received from client.",)


class ClientFaultFilter(logging.Filter):
    """Turn uvicorn's tracebacks for client protocol faults into one warning line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage() in CLIENT_FAULTS:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info, record.exc_text = None, None
        return True


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
            import daphne.cli
            from daphne.access import AccessLogGenerator

            class RedactingAccessLog(AccessLogGenerator):
                """daphne's access log (on by default, to stdout), hook tokens cut
                to their hint. daphne builds it from the name in its cli module."""

                def write_entry(self, host, date, request, *args, **kwargs):
                    super().write_entry(host, date, redact(request), *args, **kwargs)

            daphne.cli.AccessLogGenerator = RedactingAccessLog  # type: ignore[misc]
            daphne.cli.CommandLineInterface().run(
                ["-b", host, "-p", str(port), "--websocket_timeout", "-1",
                 "--application-close-timeout", "5", APP]
            )
            return
        import uvicorn

        config = uvicorn.Config(
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
        # After Config: it (re)configures uvicorn's loggers.
        logging.getLogger("uvicorn.error").addFilter(ClientFaultFilter())
        # The access log (UVICORN_LOG_LEVEL=info) prints paths: /hooks/<token>.
        logging.getLogger("uvicorn.access").addFilter(RedactHookTokens())
        uvicorn.Server(config).run()
