"""OpenAPI extensions: describe our two ways of signing in, so the schema at
/api/v1/schema/ lists them (and the docs page offers an "Authorize" button);
and a postprocessing hook documenting the error answers every operation can give.

Every REST error has one shape (chatserver/api/errors.py), so instead of
repeating it on each view the hook adds it once as the `Error` component and
lists the error statuses on every operation that does not document them itself.
Without it the schema promised only the success status, and a client generated
from it (or schemathesis, tests/fuzz/) would treat a 404 as a broken server.
"""

from __future__ import annotations

from typing import Any

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


ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": True},
            },
            "required": ["code", "message", "fields"],
        },
    },
    "required": ["error"],
}

# Status -> what it means, for every operation.
ERROR_STATUSES = {
    "400": "Invalid input (the reason is in error.message and error.fields).",
    "401": "Not signed in, or the token is invalid or revoked.",
    "403": "Signed in, but not allowed to do this.",
    "404": "Not found, or not visible to the caller.",
    "409": "Conflicts with the current state.",
    "413": "The request body is too large.",
    "415": "Unsupported media type.",
    "429": "Rate limited: retry after the Retry-After header's seconds.",
}


def add_error_responses(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("Error", ERROR_SCHEMA)
    ref = {"$ref": "#/components/schemas/Error"}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_STATUSES.items():
                responses.setdefault(status, {
                    "description": description,
                    "content": {"application/json": {"schema": ref}},
                })
    return result
