"""OpenAPI postprocessing: document the error answers every operation can give.

Every REST error has one shape (chatserver/api/errors.py), so instead of
repeating it on each view this hook adds it once as the `Error` component and
lists the error statuses on every operation that does not document them itself.
Without it the schema promised only the success status, and a client generated
from it (or schemathesis, tests/fuzz/) would treat a 404 as a broken server.
"""

from __future__ import annotations

from typing import Any

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
