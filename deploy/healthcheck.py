"""Exit 0 when the chat server in this container answers GET /healthz.

The container healthcheck in docker-compose.yml runs this. Usage:
``python deploy/healthcheck.py [PORT]`` (default 8000). Django refuses Host
headers that are not in ALLOWED_HOSTS, so the request names the first entry
of ALLOWED_HOSTS instead of 127.0.0.1. Standard library only: it must work in
the slim image without curl.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request


def host_header() -> str:
    """Return a Host value that ALLOWED_HOSTS accepts."""
    hosts = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
    if not hosts or hosts[0] == "*":
        return "localhost"
    # ".example.com" allows example.com and its subdomains.
    return hosts[0].lstrip(".")


def main(argv: list[str]) -> int:
    port = int(argv[1]) if len(argv) > 1 else 8000
    request = urllib.request.Request(  # noqa: S310 (fixed http URL)
        f"http://127.0.0.1:{port}/healthz", headers={"Host": host_header()}
    )
    try:
        with urllib.request.urlopen(request, timeout=4) as response:  # noqa: S310
            body = json.load(response)
    except (OSError, ValueError) as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    if body.get("ok") is not True:
        print(f"unhealthy: {body!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
