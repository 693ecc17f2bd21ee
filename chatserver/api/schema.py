"""OpenAPI extensions: describe our two ways of signing in, so the schema at
/api/v1/schema/ lists them (and the docs page offers an "Authorize" button)."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "chatserver.accounts.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token: from POST /api/v1/auth/login, or a bot's token.",
        }


class CsrfSessionScheme(OpenApiAuthenticationExtension):
    target_class = "chatserver.accounts.authentication.CsrfSessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "The browser session; writes also need the X-CSRFToken header.",
        }
