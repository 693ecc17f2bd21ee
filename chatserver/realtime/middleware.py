"""ASGI middleware for the socket: the session named by the cookie, lazily.

Channels' SessionMiddlewareStack does this too, but wraps `send` to save the
session after the response; a socket never changes its session, and that
wrapper ran on every frame sent (13% of a busy process's Python time).
"""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.http.cookie import parse_cookie


class SocketSessionMiddleware:
    def __init__(self, app):
        self.app = app
        self.store = import_module(settings.SESSION_ENGINE).SessionStore

    async def __call__(self, scope, receive, send):
        for name, value in scope.get("headers") or []:
            if name == b"cookie":
                key = parse_cookie(value.decode("latin-1")).get(settings.SESSION_COOKIE_NAME)
                if key:
                    # Nothing is read until the consumer asks (in its database call).
                    scope = dict(scope, session=self.store(session_key=key))
                break
        return await self.app(scope, receive, send)
