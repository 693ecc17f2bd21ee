"""ASGI middleware: authenticate a socket by `Authorization: Bearer <token>`."""

from __future__ import annotations

from chatserver.accounts.tokens import user_for_token

from .db import db


class BearerAuthMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket":
            for name, value in scope.get("headers") or []:
                if name == b"authorization":
                    parts = value.decode("latin-1").split()
                    if len(parts) == 2 and parts[0].lower() == "bearer":
                        user = await db(user_for_token)(parts[1])
                        if user is not None:
                            scope = dict(scope, user=user, auth_method="token")
                        else:
                            # A bad or revoked token is refused (4401), not
                            # silently treated as "not signed in yet".
                            scope = dict(scope, auth_failed=True)
                    break
        return await self.app(scope, receive, send)
